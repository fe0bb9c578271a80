using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>
    /// The sends of one Send-AosMessage call, each settled against the Outbox when its outcome is
    /// unknown (docs/aos-protocol.md B25): found, it is a result saying so; not found, it was not
    /// sent, and is sent once more when <see cref="ResendNotSent"/> (-RetryUnknown), else it is
    /// AosNotSent; otherwise it stays AosOutcomeUnknown with the reason. A send without
    /// keepcopy=checked leaves no copy to find: its unknown outcome says -KeepCopy would have let
    /// the module settle it. Thread-safe: rows in flight together share it, so that a copy that
    /// could be another identical row's of this call is never taken for this row's.
    /// </summary>
    public sealed class AosOutboxSettler
    {
        private readonly AosConnection _connection;
        private readonly LinkedList<Attempt> _attempts = new LinkedList<Attempt>();
        private readonly object _gate = new object();

        public AosOutboxSettler(AosConnection connection, bool resendNotSent)
        {
            _connection = connection ?? throw new ArgumentNullException(nameof(connection));
            ResendNotSent = resendNotSent;
        }

        /// <summary>Send once more a row the Outbox shows was not sent (-RetryUnknown).</summary>
        public bool ResendNotSent { get; }

        /// <summary>Whether the server keeps a copy of this send in the Outbox: asked (keepcopy=checked), or the session was told it always does.</summary>
        public bool KeepsCopy(AosPreparedSubmission submission) =>
            submission.Kind == AosSubmitKind.Send
            && (_connection.OutboxKeepsCopies || submission.Fields.Any(f => f.Name == AosProtocol.FieldKeepCopy && f.Value == AosProtocol.Checked));

        /// <summary>Sends, and settles an unknown outcome (see the class); <paramref name="mayResend"/> false: a row not sent is reported, never sent again.</summary>
        public async Task<AosSubmitResult> SendAsync(AosPreparedSubmission submission, IAosLog log, IAosProgress? progress, CancellationToken cancellationToken,
            bool mayResend = true)
        {
            if (submission == null) throw new ArgumentNullException(nameof(submission));
            if (!KeepsCopy(submission))
            {
                try
                {
                    return await _connection.SubmitAsync(submission, log, progress, cancellationToken).ConfigureAwait(false);
                }
                catch (AosException e) when (e.ErrorId == AosErrorIds.OutcomeUnknown && submission.Kind == AosSubmitKind.Send)
                {
                    throw new AosException(e.ErrorId, e.Category,
                        e.Message + " Sent with -KeepCopy, it would have left a copy in the Outbox, and the module would have looked there to settle it.", e.Target, e.InnerException);
                }
            }

            var attempt = Begin(submission, DateTimeOffset.UtcNow);
            try
            {
                return await SendSettlingAsync(submission, attempt, resends: ResendNotSent && mayResend ? 1 : 0, log, progress, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                End(attempt);
            }
        }

        /// <summary>
        /// A row a journal holds as pending or unknown from an earlier run whose request kept a copy
        /// (<paramref name="earlier"/>): looked for in the Outbox from that attempt on. Found: the
        /// journal records it sent, and the result says it was settled. Not found: the journal
        /// records it failed, and it is AosNotSent, or with <see cref="ResendNotSent"/> it is sent
        /// once now, under the journal. Otherwise it stays AosOutcomeUnknown (<paramref name="unknown"/>, with the reason).
        /// </summary>
        public async Task<AosSubmitResult> SettleEarlierAsync(AosSendJournal journal, AosJournalEntry earlier, AosException unknown, AosPreparedSubmission submission,
            IAosLog log, IAosProgress? progress, CancellationToken cancellationToken)
        {
            if (journal == null) throw new ArgumentNullException(nameof(journal));
            if (earlier == null) throw new ArgumentNullException(nameof(earlier));
            if (submission == null) throw new ArgumentNullException(nameof(submission));
            var watch = DateTimeOffset.UtcNow;
            var attempt = Begin(submission, earlier.Attempted);
            AosSettlement settlement;
            try
            {
                settlement = await _connection.SettleAsync(submission, earlier.Attempted, raw => ClaimedByAnother(attempt, raw), log, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                End(attempt);
            }

            switch (settlement.Verdict)
            {
                case AosSettleVerdict.Sent:
                    var result = AosSubmitResult.Settled(settlement.Stored!.Value, DateTimeOffset.UtcNow - watch, settlement.OutboxId!);
                    try
                    {
                        await journal.RecordSettledAsync(earlier.Key, sent: true, result.ServerAnswer).ConfigureAwait(false);
                    }
                    catch (AosException e) when (e.ErrorId == AosErrorIds.JournalSentNotRecorded)
                    {
                        return result.WithNotRecorded(e);
                    }

                    return result;
                case AosSettleVerdict.NotSent when ResendNotSent:
                    log.Verbose("The Outbox shows the earlier attempt was not sent; sending it once more (-RetryUnknown).");
                    await journal.RecordSettledAsync(earlier.Key, sent: false, AosErrorIds.NotSent, resending: true).ConfigureAwait(false);
                    return await journal.SubmitAsync(earlier.Key, () => SendAsync(submission, log, progress, cancellationToken, mayResend: false), shareSentFlush: false, keepsCopy: KeepsCopy(submission))
                        .ConfigureAwait(false);
                case AosSettleVerdict.NotSent:
                    await journal.RecordSettledAsync(earlier.Key, sent: false, AosErrorIds.NotSent).ConfigureAwait(false);
                    throw NotSent(unknown, settlement, earlierRun: true);
                default:
                    throw StillUnknown(unknown, settlement);
            }
        }

        /// <summary>The error of a row the Outbox shows was not sent, and that is not sent again now.</summary>
        public static AosException NotSent(AosException unknown, AosSettlement settlement, bool earlierRun) =>
            new AosException(AosErrorIds.NotSent, unknown.Category,
                (earlierRun ? "The earlier attempt's outcome was unknown; " : "The server's answer was lost (" + Cause(unknown) + "); ")
                + settlement.Reason + ", so it was not sent. It was not sent again: run again (with -JournalPath, a rerun sends it), or add -RetryUnknown to send such a row once more at once.",
                unknown.Target, unknown);

        /// <summary>A row whose outcome the Outbox could not settle.</summary>
        public static AosException StillUnknown(AosException unknown, AosSettlement settlement) =>
            new AosException(AosErrorIds.OutcomeUnknown, unknown.Category,
                unknown.Message + " The module looked for its copy in the Outbox, but could not settle it: " + settlement.Reason + ".", unknown.Target, unknown.InnerException);

        private async Task<AosSubmitResult> SendSettlingAsync(AosPreparedSubmission submission, Attempt attempt, int resends, IAosLog log, IAosProgress? progress,
            CancellationToken cancellationToken)
        {
            var started = DateTimeOffset.UtcNow;
            try
            {
                return await _connection.SubmitAsync(submission, log, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (AosException unknown) when (unknown.ErrorId == AosErrorIds.OutcomeUnknown)
            {
                log.Verbose("The outcome of the send is unknown; looking for its copy in the Outbox.");
                var settlement = await _connection.SettleAsync(submission, started, raw => ClaimedByAnother(attempt, raw), log, cancellationToken).ConfigureAwait(false);
                switch (settlement.Verdict)
                {
                    case AosSettleVerdict.Sent:
                        return AosSubmitResult.Settled(settlement.Stored!.Value, DateTimeOffset.UtcNow - started, settlement.OutboxId!);
                    case AosSettleVerdict.NotSent when resends > 0:
                        log.Verbose("The Outbox shows the message was not sent; sending it once more (-RetryUnknown).");
                        return await SendSettlingAsync(submission, attempt, resends - 1, log, progress, cancellationToken).ConfigureAwait(false);
                    case AosSettleVerdict.NotSent:
                        throw NotSent(unknown, settlement, earlierRun: false);
                    default:
                        throw StillUnknown(unknown, settlement);
                }
            }
        }

        private static string Cause(AosException unknown)
        {
            const string Prefix = "The outcome is unknown: ";
            var message = unknown.Message;
            int end = message.IndexOf(". ", StringComparison.Ordinal);
            return message.StartsWith(Prefix, StringComparison.Ordinal) && end > Prefix.Length
                ? message.Substring(Prefix.Length, end - Prefix.Length)
                : "no answer confirmed it";
        }

        // ---- the attempts of this call, so that identical rows are never taken for one another ----

        private Attempt Begin(AosPreparedSubmission submission, DateTimeOffset started)
        {
            var attempt = new Attempt(submission, started);
            lock (_gate)
            {
                Prune();
                _attempts.AddLast(attempt);
            }

            return attempt;
        }

        private void End(Attempt attempt)
        {
            lock (_gate)
            {
                attempt.Ended = DateTimeOffset.UtcNow;
            }
        }

        /// <summary>Whether another attempt of this call, under way or ended since <paramref name="self"/> started, matches the copy too.</summary>
        private bool ClaimedByAnother(Attempt self, byte[] raw)
        {
            List<AosPreparedSubmission> others;
            var since = self.Started - AosProtocol.SettleClockMargin;
            lock (_gate)
            {
                others = _attempts.Where(a => a != self && (a.Ended == null || a.Ended >= since)).Select(a => a.Submission).ToList();
            }

            return others.Any(other => AosConnection.MatchesPosted(raw, other.Fields));
        }

        /// <summary>
        /// Forgets the attempts that ended before every attempt still under way started (less the
        /// margin): no copy of theirs can be dated from one of those on.
        /// </summary>
        private void Prune()
        {
            var now = DateTimeOffset.UtcNow;
            var oldestOpen = _attempts.Where(a => a.Ended == null).Select(a => a.Started).DefaultIfEmpty(now).Min();
            var before = (oldestOpen < now ? oldestOpen : now) - AosProtocol.SettleClockMargin - AosProtocol.SettleClockMargin;
            var node = _attempts.First;
            while (node != null)
            {
                var next = node.Next;
                if (node.Value.Ended < before) _attempts.Remove(node);
                node = next;
            }
        }

        private sealed class Attempt
        {
            public Attempt(AosPreparedSubmission submission, DateTimeOffset started)
            {
                Submission = submission;
                Started = started;
            }

            public AosPreparedSubmission Submission { get; }
            public DateTimeOffset Started { get; }
            public DateTimeOffset? Ended { get; set; }
        }
    }
}
