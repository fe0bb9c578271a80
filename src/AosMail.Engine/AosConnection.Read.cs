using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using static System.FormattableString;
using MimeKit;

namespace AosMail.Engine
{
    /// <summary>
    /// The read side of the API (openbox, rdmail, mboxtable: A, docs/aos-protocol.md B17, B19). Reads change nothing on the server (apart from rdmail marking a
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
                    $"The server refused to list the mailboxes: {reason}.", Server),
                log, cancellationToken).ConfigureAwait(false);
            var entries = AosListingParser.ParseMailboxTable(answer.Text);
            (log ?? NullAosLog.Instance).Verbose(Invariant($"{AosProtocol.MailboxTableCommand}: {entries.Count} mailbox(es)."));
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

            var answer = await QueryAsync(AosProtocol.ListCommand, fields, $"the listing of '{mailbox}'",
                reason => new AosException(AosErrorIds.InvalidMailbox, AosErrorCategory.ObjectNotFound,
                    $"The server refused to open the mailbox '{mailbox}': {reason}. Get-AosMailbox lists the mailboxes it has.", mailbox),
                log, cancellationToken).ConfigureAwait(false);

            var listing = AosListingParser.ParseListing(answer.Text);
            if (listing.Messages.Count == 0 && listing.Problems.Count > 0)
            {
                var first = listing.Problems[0];
                throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                    Invariant($"The server's answer to {AosProtocol.ListCommand} for '{mailbox}' is not a mailbox listing (line {first.LineNumber}: {first.Reason}; ")
                    + $"{AosAnswer.Quote(answer.Text)}). Check that {Server.AbsoluteUri} is the AOS base address.", mailbox);
            }

            if (top > 0 && listing.Messages.Count > top)
            {
                listing = new AosListing(listing.Messages.Take(top).ToArray(), listing.Problems);
            }

            (log ?? NullAosLog.Instance).Verbose(Invariant($"{AosProtocol.ListCommand}: {listing.Messages.Count} message(s) in '{mailbox}'")
                + (listing.Problems.Count > 0 ? Invariant($", {listing.Problems.Count} unreadable line(s).") : "."));
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
            var answer = await QueryAsync(AosProtocol.ReadCommand, fields, $"the message '{id}' in '{mailbox}'",
                reason => new AosException(AosErrorIds.MessageNotFound, AosErrorCategory.ObjectNotFound,
                    $"The server has no message '{id}' in the mailbox '{mailbox}' (it said {reason}).", id),
                log, cancellationToken, keepBytes: true).ConfigureAwait(false);
            var bytes = answer.Bytes ?? Array.Empty<byte>();
            if (bytes.Length == 0)
            {
                throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                    $"The server answered {AosProtocol.ReadCommand} for '{id}' in '{mailbox}' with an empty body.", id);
            }

            return bytes;
        }

        /// <summary>
        /// One read command (SID in the URL path), renewing an expired session once (B14); a "false"
        /// from a live session becomes the command's own error, built by <paramref name="refused"/>
        /// from the server's quoted reason.
        /// </summary>
        private async Task<HttpAnswer> QueryAsync(string command, IReadOnlyList<AosFormField> fields, string what,
            Func<string, AosException> refused, IAosLog log, CancellationToken cancellationToken, bool keepBytes = false)
        {
            log = log ?? NullAosLog.Instance;
            var (answer, renewed, alive) = await PostInSessionAsync(command, fields, null, what, Server, log, cancellationToken, keepBytes).ConfigureAwait(false);
            if (AosAnswer.IsFalse(answer.Text))
            {
                throw refused(AosAnswer.Quote(answer.Text) + UnclearSessionCheck(alive));
            }

            if (renewed)
            {
                log.Verbose($"{command}: answered after renewing the session.");
            }

            return answer;
        }

        /// <summary>B18: a mailbox name (given to a read command or to a session) is one line, not blank.</summary>
        private static void CheckMailbox(string mailbox)
        {
            if (string.IsNullOrWhiteSpace(mailbox) || mailbox.IndexOfAny(new[] { '\r', '\n', '\0' }) >= 0)
            {
                throw new AosException(AosErrorIds.InvalidMailbox, AosErrorCategory.InvalidArgument,
                    $"A mailbox name is needed (one line, not blank), for example Inbox; '{AosFormBuilder.Escape(mailbox ?? "")}' was given.", mailbox);
            }
        }

        /// <summary>B12: message ids are server tokens; this also keeps "&lt;id&gt;.eml" a safe file name.</summary>
        public static void CheckMessageId(string id)
        {
            if (id == null || !AosProtocol.MessageId.IsMatch(id))
            {
                throw new AosException(AosErrorIds.InvalidMessageId, AosErrorCategory.InvalidArgument,
                    $"'{id}' is not a message id: an AOS id is 1 to 64 of A-Z a-z 0-9 . _ - (as Get-AosMessage lists them).", id);
            }
        }

        private static byte[] Prefix(byte[] bytes, int count)
        {
            var prefix = new byte[count];
            Buffer.BlockCopy(bytes, 0, prefix, 0, count);
            return prefix;
        }
    }
}
