using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using static System.FormattableString;

namespace AosMail.Engine
{
    /// <summary>What the Outbox says of a send whose answer was lost (docs/aos-protocol.md B25).</summary>
    public enum AosSettleVerdict
    {
        /// <summary>Its copy is in the Outbox, once: the server sent it.</summary>
        Sent,

        /// <summary>No copy after every look, each reaching back past the attempt: the server did not send it.</summary>
        NotSent,

        /// <summary>The Outbox cannot tell (identical copies, too many candidates, the listing failed): still unknown.</summary>
        Unknown,
    }

    /// <summary>One settlement: the verdict, the copy found, or why it could not be told.</summary>
    public sealed class AosSettlement
    {
        internal AosSettlement(AosSettleVerdict verdict, string? outboxId, DateTimeOffset? stored, string reason)
        {
            Verdict = verdict;
            OutboxId = outboxId;
            Stored = stored;
            Reason = reason;
        }

        public AosSettleVerdict Verdict { get; }

        /// <summary>The copy's id in the Outbox (Sent), else null.</summary>
        public string? OutboxId { get; }

        /// <summary>When the copy is dated, on this machine's clock (Sent), else null.</summary>
        public DateTimeOffset? Stored { get; }

        /// <summary>A phrase: what the looks found.</summary>
        public string Reason { get; }
    }

    /// <summary>
    /// Settling a send of unknown outcome: the Outbox, where a send with keepcopy=checked leaves its
    /// copy, is looked at for that copy (B25). Nothing of the module's own is in a message (B24), so
    /// the copy is found by its date and its content (<see cref="MatchesPosted"/>).
    /// </summary>
    public sealed partial class AosConnection
    {
        /// <summary>
        /// The session was told that the server keeps a copy of every message it sends in the
        /// Outbox, asked or not (New-AosSession -OutboxKeepsCopies): a send without keepcopy can be settled too.
        /// </summary>
        public bool OutboxKeepsCopies { get; set; }

        /// <summary>
        /// Looks for the copy of <paramref name="submission"/>, whose attempt started at
        /// <paramref name="attempted"/> (this machine's clock), in the Outbox, at the waits of
        /// <see cref="AosProtocol.SettleLookDelays"/>. A look lists the newest
        /// <see cref="AosProtocol.SettleListTop"/> messages, four times as many at once while they all
        /// date from after the attempt (up to <see cref="AosProtocol.SettleListMaxTop"/>); candidates are those dated from the
        /// attempt on, on the server's clock (this machine's time moved by the listing's HTTP Date
        /// header, less <see cref="AosProtocol.SettleClockMargin"/>), whose listed subject is the
        /// posted one; at most <see cref="AosProtocol.SettleMaxReads"/> are read and compared.
        /// <paramref name="claimedByAnother"/> says whether a matching copy could as well be another
        /// row's of this run (identical rows). Found once: Sent. Found twice, or claimed: Unknown at
        /// once. Not found by every look, the last reaching back past the attempt: NotSent. Never throws an AosException.
        /// </summary>
        public async Task<AosSettlement> SettleAsync(AosPreparedSubmission submission, DateTimeOffset attempted, Func<byte[], bool>? claimedByAnother,
            IAosLog log, CancellationToken cancellationToken)
        {
            if (submission == null) throw new ArgumentNullException(nameof(submission));
            log = log ?? NullAosLog.Instance;
            string? lastProblem = null;
            int top = AosProtocol.SettleListTop;
            var delays = AosProtocol.SettleLookDelays;
            for (int look = 0; look < delays.Count; look++)
            {
                if (delays[look] > TimeSpan.Zero)
                {
                    await Delay(delays[look], cancellationToken).ConfigureAwait(false);
                }

                AosSettlement? verdict;
                try
                {
                    verdict = await LookForCopyAsync(submission, attempted, top, claimedByAnother, log, cancellationToken).ConfigureAwait(false);
                    while (verdict?.Verdict == AosSettleVerdict.Unknown && verdict.Reason.StartsWith(NotReachedBack, StringComparison.Ordinal)
                        && top < AosProtocol.SettleListMaxTop)
                    {
                        // Many messages came after the attempt: a longer listing reaches back to it.
                        top = Math.Min(top * 4, AosProtocol.SettleListMaxTop);
                        verdict = await LookForCopyAsync(submission, attempted, top, claimedByAnother, log, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (AosException e)
                {
                    lastProblem = "the Outbox could not be read: " + e.Message;
                    log.Verbose(Invariant($"Settling, look {look + 1} of {delays.Count}: {lastProblem}"));
                    continue;
                }

                if (verdict == null)
                {
                    lastProblem = null;
                    log.Verbose(Invariant($"Settling, look {look + 1} of {delays.Count}: no copy in '{OutboxMailbox}' yet."));
                    continue;
                }

                if (verdict.Verdict == AosSettleVerdict.Unknown && look < delays.Count - 1 && verdict.Reason.StartsWith(NotReachedBack, StringComparison.Ordinal))
                {
                    // The listing did not reach back to the attempt: a later look may, once fewer new messages come in.
                    lastProblem = verdict.Reason;
                    continue;
                }

                return verdict;
            }

            var waited = TimeSpan.FromTicks(delays.Sum(d => d.Ticks));
            return lastProblem == null
                ? new AosSettlement(AosSettleVerdict.NotSent, null, null,
                    Invariant($"no copy of it is in '{OutboxMailbox}' after {delays.Count} looks over {waited.TotalSeconds:0} s"))
                : new AosSettlement(AosSettleVerdict.Unknown, null, null, lastProblem);
        }

        private const string NotReachedBack = "the newest";

        /// <summary>One look: the verdict, or null when no copy is there (yet).</summary>
        private async Task<AosSettlement?> LookForCopyAsync(AosPreparedSubmission submission, DateTimeOffset attempted, int top, Func<byte[], bool>? claimedByAnother,
            IAosLog log, CancellationToken cancellationToken)
        {
            var listing = await ListMessagesAsync(OutboxMailbox, top, log, cancellationToken).ConfigureAwait(false);
            // Without a Date header the clocks are taken to agree.
            var offset = listing.ServerClockOffset ?? TimeSpan.Zero;
            var fromServerTime = (attempted + offset - AosProtocol.SettleClockMargin).UtcDateTime;
            fromServerTime = fromServerTime.AddTicks(-(fromServerTime.Ticks % TimeSpan.TicksPerSecond));
            var dated = listing.Messages.Where(m => m.Date >= fromServerTime).ToList();
            // Newest first: the listing reached back past the attempt when it holds an older message or is the whole mailbox.
            bool reachedBack = dated.Count < listing.Messages.Count || listing.Messages.Count < top;
            string subject = Collapse(AosListingParser.DecodeText(submission.Fields.Where(f => f.Name == AosProtocol.FieldSubject && !f.IsStreamed)
                .Select(f => f.Value).FirstOrDefault() ?? ""));
            var candidates = dated.Where(m => SubjectMayBe(m.Subject, subject)).ToList();
            if (candidates.Count > AosProtocol.SettleMaxReads)
            {
                return new AosSettlement(AosSettleVerdict.Unknown, null, null,
                    Invariant($"{candidates.Count} messages in '{OutboxMailbox}' dated from the attempt on have its subject, more than the {AosProtocol.SettleMaxReads} the module reads to tell"));
            }

            var matches = new List<AosListedMessage>();
            foreach (var candidate in candidates)
            {
                var raw = await ReadMessageAsync(OutboxMailbox, candidate.Id, log, cancellationToken).ConfigureAwait(false);
                if (!MatchesPosted(raw, submission.Fields)) continue;
                if (claimedByAnother != null && claimedByAnother(raw))
                {
                    return new AosSettlement(AosSettleVerdict.Unknown, null, null,
                        $"its copy in '{OutboxMailbox}' ({candidate.Id}) could as well be that of an identical row of this run, so the copies cannot be told apart");
                }

                matches.Add(candidate);
            }

            if (matches.Count > 1)
            {
                return new AosSettlement(AosSettleVerdict.Unknown, null, null,
                    Invariant($"{matches.Count} identical messages in '{OutboxMailbox}' ({string.Join(", ", matches.Select(m => m.Id))}) date from the attempt on, so the copies cannot be told apart"));
            }

            if (!reachedBack)
            {
                return new AosSettlement(AosSettleVerdict.Unknown, null, null,
                    Invariant($"{NotReachedBack} {top} messages in '{OutboxMailbox}' all date from after the attempt, so its copy could be further down"));
            }

            if (matches.Count == 0)
            {
                return null;
            }

            var found = matches[0];
            var stored = new DateTimeOffset(found.Date, TimeSpan.Zero) - offset;
            log.Verbose($"Settled: the copy of the send is in '{OutboxMailbox}' as {found.Id}.");
            return new AosSettlement(AosSettleVerdict.Sent, found.Id, stored, $"its copy is in '{OutboxMailbox}' as {found.Id}");
        }

        /// <summary>The listed subject is the posted one, or its start (a server may shorten it in a listing).</summary>
        private static bool SubjectMayBe(string listed, string posted)
        {
            var shown = Collapse(listed);
            return shown == posted || (shown.Length > 0 && posted.StartsWith(shown, StringComparison.Ordinal));
        }
    }
}
