using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using static System.FormattableString;
using MimeKit;
using MimeKit.Utils;

namespace AosMail.Engine
{
    /// <summary>
    /// Draft saves and how a saved draft's id is found: AOS answers a save with "OK" only, so the
    /// Draft mailbox is listed before and after the save (docs/aos-protocol.md B24: nothing of the
    /// module's own is added to the draft to find it).
    /// </summary>
    public sealed partial class AosConnection
    {
        private static readonly Regex Whitespace = new Regex("\\s+", RegexOptions.CultureInvariant);

        /// <summary>
        /// Saves a draft and finds its id: the Draft mailbox's ids are listed before and after the
        /// save. An overwritten draft whose id is still listed keeps it; otherwise the one new id is
        /// the draft's. When several new ids appear (another client saved at the same moment), each
        /// candidate is read and compared with what was posted (<see cref="MatchesPosted"/>); the one
        /// candidate that matches is the draft. Listing Draft before the save may fail (nothing is
        /// saved then); once the server confirmed the save, failures only leave DraftId null with
        /// the reason in Problem. A save with Bcc reads the draft back to see whether the server kept it.
        /// </summary>
        public async Task<AosDraftSaveResult> SaveDraftAsync(AosPreparedSubmission submission, IAosLog log, CancellationToken cancellationToken)
        {
            if (submission == null)
            {
                throw new ArgumentNullException(nameof(submission));
            }

            if (submission.Kind != AosSubmitKind.SaveDraft)
            {
                throw new ArgumentException("Only a draft save finds a draft id.", nameof(submission));
            }

            log = log ?? NullAosLog.Instance;
            var before = await ListIdsAsync(log, cancellationToken).ConfigureAwait(false);
            var result = await SubmitAsync(submission, log, cancellationToken).ConfigureAwait(false);
            var (draftId, problem) = await FindSavedDraftAsync(submission, before, log, cancellationToken).ConfigureAwait(false);
            bool bccNotKept = submission.Bcc.Count > 0 && !(draftId != null && await HoldsBccAsync(draftId, log, cancellationToken).ConfigureAwait(false));
            return new AosDraftSaveResult(result, draftId, problem, bccNotKept);
        }

        /// <summary>
        /// The saved draft's id, found by listing Draft after the save (see <see cref="SaveDraftAsync"/>);
        /// null with the reason when it cannot be told. The save has been confirmed, so nothing here fails.
        /// </summary>
        private async Task<(string? DraftId, string? Problem)> FindSavedDraftAsync(AosPreparedSubmission submission, HashSet<string> before,
            IAosLog log, CancellationToken cancellationToken)
        {
            try
            {
                var after = await ListIdsAsync(log, cancellationToken).ConfigureAwait(false);
                if (submission.DraftId != null && after.Contains(submission.DraftId))
                {
                    log.Verbose($"The overwritten draft keeps its id {submission.DraftId}.");
                    return (submission.DraftId, null);
                }

                var added = after.Where(id => !before.Contains(id)).ToList();
                if (added.Count == 1)
                {
                    log.Verbose($"The draft's id is {added[0]} (the one new id in '{DraftMailbox}').");
                    return (added[0], null);
                }

                if (added.Count == 0)
                {
                    return (null, $"no new message appeared in the mailbox '{DraftMailbox}' after the save");
                }

                log.Verbose(Invariant($"{added.Count} new ids appeared in '{DraftMailbox}' (another client saving too?); reading them to compare with what was saved."));
                var matches = new List<string>();
                foreach (var candidate in added)
                {
                    var raw = await ReadMessageAsync(DraftMailbox, candidate, log, cancellationToken).ConfigureAwait(false);
                    if (MatchesPosted(raw, submission.Fields))
                    {
                        matches.Add(candidate);
                    }
                }

                if (matches.Count == 1)
                {
                    log.Verbose($"The draft's id is {matches[0]} (the one new draft whose content is what was saved).");
                    return (matches[0], null);
                }

                return (null, matches.Count == 0
                    ? Invariant($"{added.Count} new messages appeared in '{DraftMailbox}' and none has the content that was saved")
                    : Invariant($"{matches.Count} of the {added.Count} new messages in '{DraftMailbox}' have the content that was saved (identical drafts saved at the same moment)"));
            }
            catch (AosException ex)
            {
                return (null, ex.Message);
            }
        }

        /// <summary>
        /// Whether the stored draft holds a Bcc. Many servers (AOS, the sandbox) drop it from drafts;
        /// a draft that cannot be read counts as not holding it, so the user hears of it either way.
        /// </summary>
        private async Task<bool> HoldsBccAsync(string draftId, IAosLog log, CancellationToken cancellationToken)
        {
            try
            {
                var raw = await ReadMessageAsync(DraftMailbox, draftId, log, cancellationToken).ConfigureAwait(false);
                AosDraftContent.SplitHeaderBlock(AosAnswer.Decode(raw), out var headerBlock, out _);
                return AosDraftContent.HeaderFields(headerBlock).Any(h => string.Equals(h.Key, "Bcc", StringComparison.OrdinalIgnoreCase) && h.Value.Length > 0);
            }
            catch (AosException ex)
            {
                log.Verbose($"The saved draft {draftId} could not be read to check its Bcc: {ex.Message}");
                return false;
            }
        }

        /// <summary>
        /// Whether a stored message (a draft, a copy in the Outbox) holds what was posted: each posted field is
        /// compared as <see cref="AosMessageParts"/> says (To and Cc as addresses, the subject RFC 2047-decoded,
        /// each posted mheader line among the stored headers, the body; fields left out there are not compared).
        /// A multipart body is told apart by its Content-Type in mheader, whose boundary MimeKit made at random; a
        /// single-part MIME body (HTML, long lines) is compared as it is written, a plain body from a -BodyPath file as it is read. Whitespace differences are
        /// ignored, since a server may refold what it stores.
        /// </summary>
        internal static bool MatchesPosted(byte[] raw, IReadOnlyList<AosFormField> posted)
        {
            AosDraftContent.SplitHeaderBlock(AosAnswer.Decode(raw ?? Array.Empty<byte>()), out var headerBlock, out var body);
            var stored = AosDraftContent.HeaderFields(headerBlock).ToList();
            string? Stored(string name) => stored.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();
            string? Posted(string name) => posted.Where(f => f.Name == name && !f.IsStreamed).Select(f => f.Value).FirstOrDefault();

            foreach (var part in AosMessageParts.Fields)
            {
                bool same;
                switch (part.Comparison)
                {
                    case AosPartComparison.Addresses:
                        same = SameAddresses(Posted(part.Field), Stored(part.StoredHeader!));
                        break;
                    case AosPartComparison.DecodedText:
                        same = string.Equals(DecodedText(Posted(part.Field)), DecodedText(Stored(part.StoredHeader!)), StringComparison.Ordinal);
                        break;
                    case AosPartComparison.HeaderLines:
                        same = AosDraftContent.HeaderFields(Posted(part.Field) ?? "").All(line =>
                            stored.Any(h => string.Equals(h.Key, line.Key, StringComparison.OrdinalIgnoreCase) && Collapse(h.Value) == Collapse(line.Value)));
                        break;
                    case AosPartComparison.Body:
                        var streamed = posted.FirstOrDefault(f => f.Name == part.Field && f.IsStreamed);
                        // A plain body from -BodyPath is compared as it is read, not held.
                        same = streamed == null ? TrimBody(Posted(part.Field)) == TrimBody(body)
                            : streamed.Writer is AosBodyFile file ? file.TextMatches(TrimBody(body))
                            : HasBoundary(Posted(AosProtocol.FieldHeader)) || AosStoredBody.Holds(body, streamed.Writer!);
                        break;
                    default:
                        same = true;
                        break;
                }

                if (!same)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Whether mheader's Content-Type names a boundary (a multipart body).</summary>
        private static bool HasBoundary(string? mheader) =>
            AosDraftContent.HeaderFields(mheader ?? "").Any(h => string.Equals(h.Key, "Content-Type", StringComparison.OrdinalIgnoreCase)
                && ContentType.TryParse(h.Value, out var type) && !string.IsNullOrEmpty(type.Boundary));

        private static bool SameAddresses(string? posted, string? stored)
        {
            var a = AddrSpecs(posted);
            var b = AddrSpecs(stored);
            return a.SequenceEqual(b, StringComparer.OrdinalIgnoreCase);
        }

        private static IReadOnlyList<string> AddrSpecs(string? list)
        {
            if (string.IsNullOrWhiteSpace(list))
            {
                return Array.Empty<string>();
            }

            return InternetAddressList.TryParse(list!, out var parsed)
                ? parsed.Mailboxes.Select(m => m.Address).ToList()
                : new List<string> { Collapse(list) };
        }

        private static string DecodedText(string? value) =>
            string.IsNullOrEmpty(value) ? "" : Collapse(Rfc2047.DecodeText(Encoding.UTF8.GetBytes(value)));

        private static string Collapse(string? value) => Whitespace.Replace(value ?? "", " ").Trim();

        private static string TrimBody(string? body) => AosFormBuilder.NormalizeNewLines(body ?? "").TrimEnd('\r', '\n', ' ', '\t');

        private async Task<HashSet<string>> ListIdsAsync(IAosLog log, CancellationToken cancellationToken)
        {
            var listing = await ListMessagesAsync(DraftMailbox, 0, log, cancellationToken).ConfigureAwait(false);
            return new HashSet<string>(listing.Messages.Select(m => m.Id), StringComparer.Ordinal);
        }
    }

    /// <summary>What a draft save did, and the draft's id when it could be found.</summary>
    public sealed class AosDraftSaveResult
    {
        public AosDraftSaveResult(AosSubmitResult submit, string? draftId, string? problem, bool bccNotKept = false)
        {
            Submit = submit;
            DraftId = draftId;
            Problem = problem;
            BccNotKept = bccNotKept;
        }

        public AosSubmitResult Submit { get; }

        /// <summary>The saved draft's id; null when it could not be determined (see <see cref="Problem"/>).</summary>
        public string? DraftId { get; }
        public string? Problem { get; }

        /// <summary>Bcc was given, but the stored draft holds none (or could not be checked): it must be given again when the draft is sent.</summary>
        public bool BccNotKept { get; }
    }
}
