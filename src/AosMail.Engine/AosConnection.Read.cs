using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;

namespace AosMail.Engine
{
    /// <summary>
    /// The read side of the API (openbox, rdmail, mboxtable: A, B17, B19) and the draft id
    /// lookup for draft saves. Reads change nothing on the server (apart from rdmail marking a
    /// message Read), so they are retried after transport faults (B15) and repeated once after
    /// renewing an expired session (B14).
    /// </summary>
    public sealed partial class AosConnection
    {
        /// <summary>How much of a raw rdmail answer is decoded as text (to recognise "false" and quote errors).</summary>
        private const int RawTextPrefix = 4096;

        /// <summary>mboxtable: the user's mailboxes (B19).</summary>
        public async Task<IReadOnlyList<AosMailboxEntry>> ListMailboxesAsync(IAosLog log, CancellationToken cancellationToken)
        {
            var fields = new[] { AosFormField.Plain(AosProtocol.FieldApi, AosProtocol.ApiMachineReadable) };
            var answer = await QueryAsync(AosProtocol.MailboxTableCommand, fields, "the mailbox list",
                reason => new AosException(AosErrorIds.ServerRejected, AosErrorCategory.InvalidOperation,
                    "The server refused to list the mailboxes: " + reason + ".", Server),
                log, cancellationToken).ConfigureAwait(false);
            var entries = AosListingParser.ParseMailboxTable(answer.Text);
            (log ?? NullAosLog.Instance).Verbose(AosProtocol.MailboxTableCommand + ": " + entries.Count.ToString(CultureInfo.InvariantCulture) + " mailbox(es).");
            return entries;
        }

        /// <summary>
        /// openbox: the mailbox's messages in the server's order (newest first on AOS). top &gt; 0
        /// sends LCTop and keeps at most that many even from a server that ignores it.
        /// Lines that cannot be read are returned as problems; an answer in which no line can be
        /// read is no listing at all (AosServerRejected, ProtocolError).
        /// </summary>
        public async Task<AosListing> ListMessagesAsync(string mailbox, int top, IAosLog log, CancellationToken cancellationToken)
        {
            CheckMailbox(mailbox);
            var fields = new List<AosFormField>
            {
                AosFormField.Plain(AosProtocol.FieldApi, AosProtocol.ApiMachineReadable),
                AosFormField.Plain(AosProtocol.FieldMailbox, mailbox),
            };
            if (top > 0)
            {
                fields.Add(AosFormField.Plain(AosProtocol.FieldTop, top.ToString(CultureInfo.InvariantCulture)));
            }

            var answer = await QueryAsync(AosProtocol.ListCommand, fields, "the listing of '" + mailbox + "'",
                reason => new AosException(AosErrorIds.InvalidMailbox, AosErrorCategory.ObjectNotFound,
                    "The server refused to open the mailbox '" + mailbox + "': " + reason + ". Get-AosMailbox lists the mailboxes it has.", mailbox),
                log, cancellationToken).ConfigureAwait(false);

            var listing = AosListingParser.ParseListing(answer.Text);
            if (listing.Messages.Count == 0 && listing.Problems.Count > 0)
            {
                var first = listing.Problems[0];
                throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                    "The server's answer to " + AosProtocol.ListCommand + " for '" + mailbox + "' is not a mailbox listing (line "
                    + first.LineNumber.ToString(CultureInfo.InvariantCulture) + ": " + first.Reason + "; " + AosAnswer.Quote(answer.Text)
                    + "). Check that " + Server.AbsoluteUri + " is the AOS base address.", mailbox);
            }

            if (top > 0 && listing.Messages.Count > top)
            {
                listing = new AosListing(listing.Messages.Take(top).ToArray(), listing.Problems);
            }

            (log ?? NullAosLog.Instance).Verbose(AosProtocol.ListCommand + ": " + listing.Messages.Count.ToString(CultureInfo.InvariantCulture)
                + " message(s) in '" + mailbox + "'" + (listing.Problems.Count > 0 ? ", " + listing.Problems.Count.ToString(CultureInfo.InvariantCulture) + " unreadable line(s)." : "."));
            return listing;
        }

        /// <summary>rdmail: the raw message, byte for byte as the server sent it. The id must be a B12 token.</summary>
        public async Task<byte[]> ReadMessageAsync(string mailbox, string id, IAosLog log, CancellationToken cancellationToken)
        {
            CheckMailbox(mailbox);
            CheckMessageId(id);
            var fields = new[]
            {
                AosFormField.Plain(AosProtocol.FieldApi, AosProtocol.ApiMachineReadable),
                AosFormField.Plain(AosProtocol.FieldMailbox, mailbox),
                AosFormField.Plain(AosProtocol.FieldFile, id),
            };
            var answer = await QueryAsync(AosProtocol.ReadCommand, fields, "the message '" + id + "' in '" + mailbox + "'",
                reason => new AosException(AosErrorIds.MessageNotFound, AosErrorCategory.ObjectNotFound,
                    "The server has no message '" + id + "' in the mailbox '" + mailbox + "' (it said " + reason + ").", id),
                log, cancellationToken, keepBytes: true).ConfigureAwait(false);
            var bytes = answer.Bytes ?? Array.Empty<byte>();
            if (bytes.Length == 0)
            {
                throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                    "The server answered " + AosProtocol.ReadCommand + " for '" + id + "' in '" + mailbox + "' with an empty body.", id);
            }

            return bytes;
        }

        /// <summary>
        /// Saves a draft and finds its id (AOS answers a save with "OK" only): the Draft mailbox's
        /// ids are listed before and after the save. An overwritten draft whose id is still listed
        /// keeps it; otherwise the one new id is the draft's. When several new ids appear (another
        /// client saved at the same moment), each candidate's headers are read and the one carrying
        /// this save's <paramref name="token"/> (see <see cref="StampDraftToken"/>) is chosen.
        /// Listing Draft before the save may fail (nothing is saved then); once the server confirmed
        /// the save, failures only leave DraftId null with the reason in Problem.
        /// </summary>
        public async Task<AosDraftSaveResult> SaveDraftAsync(AosPreparedSubmission submission, string token, IAosLog log, CancellationToken cancellationToken)
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
            try
            {
                var after = await ListIdsAsync(log, cancellationToken).ConfigureAwait(false);
                if (submission.DraftId != null && after.Contains(submission.DraftId))
                {
                    log.Verbose("The overwritten draft keeps its id " + submission.DraftId + ".");
                    return new AosDraftSaveResult(result, submission.DraftId, null);
                }

                var added = after.Where(id => !before.Contains(id)).ToList();
                if (added.Count == 1)
                {
                    log.Verbose("The draft's id is " + added[0] + " (the one new id in '" + DraftMailbox + "').");
                    return new AosDraftSaveResult(result, added[0], null);
                }

                if (added.Count == 0)
                {
                    return new AosDraftSaveResult(result, null,
                        "no new message appeared in the mailbox '" + DraftMailbox + "' after the save");
                }

                log.Verbose(added.Count.ToString(CultureInfo.InvariantCulture) + " new ids appeared in '" + DraftMailbox + "' (another client saving too?); reading them for this save's token.");
                foreach (var candidate in added)
                {
                    var raw = await ReadMessageAsync(DraftMailbox, candidate, log, cancellationToken).ConfigureAwait(false);
                    if (CarriesToken(raw, token))
                    {
                        log.Verbose("The draft's id is " + candidate + " (it carries this save's " + AosProtocol.DraftTokenHeader + ").");
                        return new AosDraftSaveResult(result, candidate, null);
                    }
                }

                return new AosDraftSaveResult(result, null,
                    added.Count.ToString(CultureInfo.InvariantCulture) + " new messages appeared in '" + DraftMailbox + "' and none carries this save's " + AosProtocol.DraftTokenHeader);
            }
            catch (AosException ex)
            {
                return new AosDraftSaveResult(result, null, ex.Message);
            }
        }

        /// <summary>Adds a fresh <c>X-AosMail-Draft-Token</c> header to a draft about to be saved and returns the token.</summary>
        public static string StampDraftToken(AosMessage message)
        {
            if (message == null)
            {
                throw new ArgumentNullException(nameof(message));
            }

            var bytes = new byte[16];
            using (var random = RandomNumberGenerator.Create())
            {
                random.GetBytes(bytes);
            }

            var token = BitConverter.ToString(bytes).Replace("-", "").ToLowerInvariant();
            message.Headers.Add(new KeyValuePair<string, string>(AosProtocol.DraftTokenHeader, token));
            return token;
        }

        internal static bool CarriesToken(byte[] raw, string token)
        {
            try
            {
                using (var stream = new MemoryStream(raw, writable: false))
                {
                    var headers = HeaderList.Load(stream);
                    return headers.Any(h => string.Equals(h.Field, AosProtocol.DraftTokenHeader, StringComparison.OrdinalIgnoreCase)
                        && string.Equals(h.Value.Trim(), token, StringComparison.Ordinal));
                }
            }
            catch (FormatException)
            {
                return false;
            }
        }

        private async Task<HashSet<string>> ListIdsAsync(IAosLog log, CancellationToken cancellationToken)
        {
            var listing = await ListMessagesAsync(DraftMailbox, 0, log, cancellationToken).ConfigureAwait(false);
            return new HashSet<string>(listing.Messages.Select(m => m.Id), StringComparer.Ordinal);
        }

        /// <summary>
        /// One read command (SID in the URL path): renews an expired session once and repeats (B14);
        /// a "false" from a live session becomes the command's own error, built by <paramref name="refused"/>
        /// from the server's quoted reason.
        /// </summary>
        private async Task<HttpAnswer> QueryAsync(string command, IReadOnlyList<AosFormField> fields, string what,
            Func<string, AosException> refused, IAosLog log, CancellationToken cancellationToken, bool keepBytes = false)
        {
            ThrowIfDisposed();
            log = log ?? NullAosLog.Instance;
            var sid = await EnsureSessionAsync(log, cancellationToken).ConfigureAwait(false);
            bool renewed = false;
            while (true)
            {
                var answer = await PostAsync(command, sid, fields, null, log, cancellationToken, keepBytes).ConfigureAwait(false);
                if (answer.IsRedirect)
                {
                    throw RedirectRefused(command, answer);
                }

                if (!answer.IsSuccess)
                {
                    throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.InvalidOperation,
                        "The server refused " + what + " (" + answer.Status + "): " + AosAnswer.Quote(answer.Text) + ".", Server);
                }

                if (!AosAnswer.IsFalse(answer.Text))
                {
                    if (renewed)
                    {
                        log.Verbose(command + ": answered after renewing the session.");
                    }

                    return answer;
                }

                // B14: the server said false; is the session still alive?
                bool? alive = await IsSessionAliveAsync(sid, log, cancellationToken).ConfigureAwait(false);
                if (alive == false)
                {
                    if (renewed)
                    {
                        throw new AosException(AosErrorIds.SessionExpired, AosErrorCategory.AuthenticationError,
                            "The server refused " + what + " again right after the session was renewed, and says the new session expired too ("
                            + answer.Status + "): " + AosAnswer.Quote(answer.Text) + ".", Server);
                    }

                    log.Verbose(command + ": refused and " + AosProtocol.VerifyCommand + " says the session expired; logging in again and repeating the request once.");
                    sid = await RenewAsync(sid, log, cancellationToken).ConfigureAwait(false);
                    renewed = true;
                    continue;
                }

                throw refused(AosAnswer.Quote(answer.Text) + (alive == null ? " (the session check gave no clear answer)" : ""));
            }
        }

        private static void CheckMailbox(string mailbox)
        {
            if (string.IsNullOrWhiteSpace(mailbox) || mailbox.IndexOfAny(new[] { '\r', '\n', '\0' }) >= 0)
            {
                throw new AosException(AosErrorIds.InvalidMailbox, AosErrorCategory.InvalidArgument,
                    "A mailbox name is needed (one line, not blank), for example Inbox.", mailbox);
            }
        }

        /// <summary>B12: message ids are server tokens; this also keeps "&lt;id&gt;.eml" a safe file name.</summary>
        public static void CheckMessageId(string id)
        {
            if (id == null || !AosProtocol.MessageId.IsMatch(id))
            {
                throw new AosException(AosErrorIds.InvalidMessageId, AosErrorCategory.InvalidArgument,
                    "'" + id + "' is not a message id: an AOS id is 1 to 64 of A-Z a-z 0-9 . _ - (as Get-AosMessage lists them).", id);
            }
        }

        private static byte[] Prefix(byte[] bytes, int count)
        {
            var prefix = new byte[count];
            Buffer.BlockCopy(bytes, 0, prefix, 0, count);
            return prefix;
        }
    }

    /// <summary>What a draft save did, and the draft's id when it could be found.</summary>
    public sealed class AosDraftSaveResult
    {
        public AosDraftSaveResult(AosSubmitResult submit, string? draftId, string? problem)
        {
            Submit = submit;
            DraftId = draftId;
            Problem = problem;
        }

        public AosSubmitResult Submit { get; }

        /// <summary>The saved draft's id; null when it could not be determined (see <see cref="Problem"/>).</summary>
        public string? DraftId { get; }
        public string? Problem { get; }
    }
}
