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
        /// <summary>How much of an rdmail answer is read before it is streamed: enough to recognise "false" and a web page, and to quote them.</summary>
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
                    + $"{Quote(answer.Text)}). Check that {Server.AbsoluteUri} is the AOS base address.", mailbox);
            }

            if (top > 0 && listing.Messages.Count > top)
            {
                listing = new AosListing(listing.Messages.Take(top).ToArray(), listing.Problems);
            }

            listing.ServerClockOffset = answer.ServerClockOffset;
            (log ?? NullAosLog.Instance).Verbose(Invariant($"{AosProtocol.ListCommand}: {listing.Messages.Count} message(s) in '{mailbox}'")
                + (listing.Problems.Count > 0 ? Invariant($", {listing.Problems.Count} unreadable line(s).") : "."));
            return listing;
        }

        /// <summary>The most bytes one array holds: the ceiling of a message read into memory.</summary>
        private const long MaxArrayBytes = 0x7FFFFFC7;

        /// <summary>
        /// rdmail, streamed (B23): <paramref name="read"/> gets the raw message, byte for byte as the
        /// server sends it, once its start showed it is a message (not "false", not empty, not a
        /// web page). When the read fails in transit it is retried (B15) and <paramref name="read"/>
        /// is called again with the message from its start, so it must start over each time. Its
        /// own failures (a full disk) are thrown as they are. The id must be a B12 token. A large
        /// message reports the bytes read to <paramref name="progress"/>.
        /// </summary>
        internal Task ReadMessageAsync(string mailbox, string id, AosAnswerReader read, IAosLog log, CancellationToken cancellationToken,
            IAosProgress? progress = null)
        {
            CheckMailbox(mailbox);
            CheckMessageId(id);
            var fields = new[]
            {
                AosFormField.Plain(AosProtocol.FieldApi, AosProtocol.ApiMachineReadable),
                AosFormField.Plain(AosProtocol.FieldMailbox, mailbox),
                AosFormField.Plain(AosProtocol.FieldFile, id),
            };
            return QueryAsync(AosProtocol.ReadCommand, fields, $"the message '{id}' in '{mailbox}'",
                reason => new AosException(AosErrorIds.MessageNotFound, AosErrorCategory.ObjectNotFound,
                    $"The server has no message '{id}' in the mailbox '{mailbox}' (it said {reason}).", id),
                log, cancellationToken, progress == null ? read : (body, length, token) => ReadCountedAsync(read, body, length, progress, token));
        }

        /// <summary>One attempt of <paramref name="read"/>, its bytes counted for <paramref name="progress"/>.</summary>
        private static async Task ReadCountedAsync(AosAnswerReader read, Stream body, long? length, IAosProgress progress, CancellationToken cancellationToken)
        {
            using (var reporter = AosProgressReporter.Create(progress, AosProtocol.ReadCommand, download: true)!)
            {
                reporter.Start(length ?? -1);
                await read(new AosProgressStream(body, reporter.Sent), length, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>rdmail: the raw message in memory, byte for byte (Get-AosMessage -Raw, a draft's saved content).</summary>
        public async Task<byte[]> ReadMessageAsync(string mailbox, string id, IAosLog log, CancellationToken cancellationToken,
            IAosProgress? progress = null)
        {
            byte[] result = Array.Empty<byte>();
            await ReadMessageAsync(mailbox, id, async (body, length, token) =>
            {
                if (length > MaxArrayBytes)
                {
                    throw TooLargeForMemory(id, length.Value);
                }

                // Held once: sized by the Content-Length; without one, spooled to a temporary file
                // first, so that a growing buffer never holds the message two or three times over.
                using (var buffer = length.HasValue ? (Stream)new MemoryStream((int)length.Value) : TemporaryFile())
                {
                    var chunk = new byte[81920];
                    int read;
                    while ((read = await body.ReadAsync(chunk, 0, chunk.Length, token).ConfigureAwait(false)) > 0)
                    {
                        if (buffer.Length + read > MaxArrayBytes)
                        {
                            throw TooLargeForMemory(id, null);
                        }

                        await buffer.WriteAsync(chunk, 0, read, token).ConfigureAwait(false);
                    }

                    if (buffer is MemoryStream memory)
                    {
                        // The buffer itself when the Content-Length sized it exactly: no second copy.
                        result = memory.Length == memory.Capacity ? memory.GetBuffer() : memory.ToArray();
                    }
                    else
                    {
                        result = new byte[buffer.Length];
                        buffer.Position = 0;
                        for (int done = 0; done < result.Length; done += read)
                        {
                            read = await buffer.ReadAsync(result, done, result.Length - done, token).ConfigureAwait(false);
                        }
                    }
                }
            }, log, cancellationToken, progress).ConfigureAwait(false);
            return result;
        }

        /// <summary>
        /// rdmail into <paramref name="path"/>: the message is written to a temporary file beside it
        /// and renamed into place once whole, so a failed read leaves no partial file. Without
        /// <paramref name="overwrite"/>, a file that appeared meanwhile is not replaced (IOException).
        /// Returns the bytes written.
        /// </summary>
        public async Task<long> SaveMessageAsync(string mailbox, string id, string path, bool overwrite, IAosLog log, CancellationToken cancellationToken,
            IAosProgress? progress = null)
        {
            var target = Path.GetFullPath(path);
            var temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():n}.part");
            long written = 0;
            try
            {
                await ReadMessageAsync(mailbox, id, async (body, length, token) =>
                {
                    using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true))
                    {
                        await body.CopyToAsync(file, 81920, token).ConfigureAwait(false);
                        written = file.Length;
                    }
                }, log, cancellationToken, progress).ConfigureAwait(false);

                if (overwrite && File.Exists(target))
                {
                    File.Replace(temp, target, null);
                }
                else
                {
                    File.Move(temp, target);
                }

                return written;
            }
            catch
            {
                try
                {
                    File.Delete(temp);
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }

                throw;
            }
        }

        /// <summary>rdmail, parsed by MimeKit (from memory or, for a large message, a temporary file that is deleted afterwards).</summary>
        public Task<AosReadMessage> ReadParsedMessageAsync(string mailbox, string id, IAosLog log, CancellationToken cancellationToken,
            IAosProgress? progress = null) =>
            ReadBufferedAsync(mailbox, id, copy => AosMimeReader.Parse(copy, id), log, cancellationToken, progress);

        /// <summary>rdmail as a MimeKit.MimeMessage (typed object: no MimeKit type in the cmdlets' signatures); it holds its content in memory.</summary>
        public Task<object> ReadMimeMessageAsync(string mailbox, string id, IAosLog log, CancellationToken cancellationToken,
            IAosProgress? progress = null) =>
            ReadBufferedAsync(mailbox, id, copy => AosMimeReader.LoadMimeMessage(copy, id), log, cancellationToken, progress);

        /// <summary>rdmail into a seekable copy (<see cref="AosMimeReader.BufferAsync"/>), read by <paramref name="parse"/> before the copy goes.</summary>
        private async Task<T> ReadBufferedAsync<T>(string mailbox, string id, Func<Stream, T> parse, IAosLog log, CancellationToken cancellationToken,
            IAosProgress? progress)
        {
            T result = default!;
            await ReadMessageAsync(mailbox, id, async (body, length, token) =>
            {
                using (var copy = await AosMimeReader.BufferAsync(body, length, id, token).ConfigureAwait(false))
                {
                    result = parse(copy);
                }
            }, log, cancellationToken, progress).ConfigureAwait(false);
            return result;
        }

        /// <summary>A temporary file for a read of unknown size, deleted when it is disposed.</summary>
        internal static Stream TemporaryFile() =>
            new FileStream(Path.Combine(Path.GetTempPath(), $"AosMail-{Guid.NewGuid():n}.eml.tmp"), FileMode.CreateNew, FileAccess.ReadWrite,
                FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);

        private static AosException TooLargeForMemory(string id, long? length) =>
            new AosException(AosErrorIds.MessageTooLarge, AosErrorCategory.InvalidOperation,
                (length.HasValue ? Invariant($"The message '{id}' is {length} bytes") : $"The message '{id}' is larger than {MaxArrayBytes} bytes")
                + ", more than one byte array holds. Save-AosMessage writes a message of any size to a file.", id);

        /// <summary>
        /// One read command (SID in the URL path), renewing an expired session once (B14); a "false"
        /// from a live session becomes the command's own error, built by <paramref name="refused"/>
        /// from the server's quoted reason.
        /// </summary>
        private async Task<HttpAnswer> QueryAsync(string command, IReadOnlyList<AosFormField> fields, string what,
            Func<string, AosException> refused, IAosLog log, CancellationToken cancellationToken, AosAnswerReader? readAnswer = null)
        {
            log = log ?? NullAosLog.Instance;
            var (answer, renewed, alive) = await PostInSessionAsync(command, fields, null, what, Server, log, cancellationToken, readAnswer).ConfigureAwait(false);
            if (AosAnswer.IsFalse(answer.Text))
            {
                throw refused(Quote(answer.Text) + UnclearSessionCheck(alive));
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
    }
}
