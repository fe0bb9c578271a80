using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using static System.FormattableString;

namespace AosMail.Engine
{
    /// <summary>
    /// A message read with rdmail, parsed by MimeKit into plain values: the cmdlets never see a
    /// MimeKit type (they live in the module's private load context on PowerShell 7).
    /// </summary>
    public sealed class AosReadMessage
    {
        internal AosReadMessage() { }

        public string? Subject { get; internal set; }
        public string? From { get; internal set; }
        public IReadOnlyList<string> To { get; internal set; } = Array.Empty<string>();
        public IReadOnlyList<string> Cc { get; internal set; } = Array.Empty<string>();
        public DateTimeOffset? Date { get; internal set; }
        public string? MessageId { get; internal set; }
        public string? ContentType { get; internal set; }
        public string? TextBody { get; internal set; }
        public string? HtmlBody { get; internal set; }

        /// <summary>File names of the attachments (parts with a Content-Disposition of attachment, or a name), in order.</summary>
        public IReadOnlyList<string> Attachments { get; internal set; } = Array.Empty<string>();

        /// <summary>Every header in order, values decoded (RFC 2047), names as written.</summary>
        public IReadOnlyList<KeyValuePair<string, string>> Headers { get; internal set; } = Array.Empty<KeyValuePair<string, string>>();
        public long Size { get; internal set; }
    }

    /// <summary>MimeKit parsing of rdmail's raw bytes.</summary>
    public static class AosMimeReader
    {
        /// <summary>Parses the raw message (a MIME format error is AosServerRejected/InvalidData naming the message).</summary>
        public static AosReadMessage Parse(byte[] raw, string id)
        {
            using (var stream = new MemoryStream(raw ?? Array.Empty<byte>(), writable: false))
            {
                return Parse(stream, id);
            }
        }

        /// <summary>
        /// Parses a message from a seekable stream, which MimeKit reads in place (persistent: its
        /// parts keep offsets into the stream, not copies); every value is taken out before this returns.
        /// </summary>
        internal static AosReadMessage Parse(Stream seekable, string id)
        {
            var message = Load(seekable, id, persistent: true);
            return new AosReadMessage
            {
                Subject = message.Subject,
                From = message.From.Count == 0 ? null : message.From.ToString(),
                To = message.To.Select(a => a.ToString()).ToArray(),
                Cc = message.Cc.Select(a => a.ToString()).ToArray(),
                Date = message.Headers.Contains(HeaderId.Date) ? message.Date : (DateTimeOffset?)null,
                MessageId = message.MessageId,
                ContentType = message.Body?.ContentType.MimeType.ToLowerInvariant(),
                TextBody = message.TextBody,
                HtmlBody = message.HtmlBody,
                Attachments = message.Attachments
                    .Select(a => a.ContentDisposition?.FileName ?? a.ContentType.Name ?? "")
                    .ToArray(),
                Headers = message.Headers.Select(h => new KeyValuePair<string, string>(h.Field, h.Value)).ToArray(),
                Size = seekable.Length,
            };
        }

        /// <summary>The MimeKit.MimeMessage itself (its content copied into memory, so the stream may go), typed as object so that no MimeKit type appears in the cmdlets' signatures.</summary>
        internal static object LoadMimeMessage(Stream seekable, string id) => Load(seekable, id, persistent: false);

        /// <summary>
        /// A seekable copy of a streamed message to parse: in memory up to
        /// <see cref="AosProtocol.ParseInMemoryMaxBytes"/>, else a temporary file that is deleted
        /// when the copy is disposed.
        /// </summary>
        internal static async Task<Stream> BufferAsync(Stream body, long? length, CancellationToken cancellationToken)
        {
            Stream copy = length <= AosProtocol.ParseInMemoryMaxBytes
                ? new MemoryStream((int)length.Value)
                : new FileStream(Path.Combine(Path.GetTempPath(), $"AosMail-{Guid.NewGuid():n}.eml.tmp"), FileMode.CreateNew, FileAccess.ReadWrite,
                    FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            try
            {
                await body.CopyToAsync(copy, 81920, cancellationToken).ConfigureAwait(false);
                copy.Position = 0;
                return copy;
            }
            catch
            {
                copy.Dispose();
                throw;
            }
        }

        private static MimeMessage Load(Stream stream, string id, bool persistent)
        {
            try
            {
                return MimeMessage.Load(stream, persistent);
            }
            catch (FormatException ex)
            {
                throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.InvalidData,
                    $"The message '{id}' is not a readable MIME message: {ex.Message}", id, ex);
            }
        }
    }
}
