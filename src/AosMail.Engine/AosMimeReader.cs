using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
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

        /// <summary>Whether TextBody or HtmlBody was cut at <see cref="AosProtocol.ParsedBodyMaxChars"/> characters (B23).</summary>
        public bool BodyTruncated { get; internal set; }

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
            bool truncated = false;
            return new AosReadMessage
            {
                Subject = message.Subject,
                From = message.From.Count == 0 ? null : message.From.ToString(),
                To = message.To.Select(a => a.ToString()).ToArray(),
                Cc = message.Cc.Select(a => a.ToString()).ToArray(),
                Date = message.Headers.Contains(HeaderId.Date) ? message.Date : (DateTimeOffset?)null,
                MessageId = message.MessageId,
                ContentType = message.Body?.ContentType.MimeType.ToLowerInvariant(),
                TextBody = BodyText(FindBody(message.Body, html: false), ref truncated),
                HtmlBody = BodyText(FindBody(message.Body, html: true), ref truncated),
                BodyTruncated = truncated,
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
        internal static async Task<Stream> BufferAsync(Stream body, long? length, string id, CancellationToken cancellationToken)
        {
            Stream copy = length <= AosProtocol.ParseInMemoryMaxBytes
                ? new MemoryStream((int)length.Value)
                : AosConnection.TemporaryFile();
            try
            {
                var guard = new AosHeaderBlockGuard(id);
                var buffer = new byte[81920];
                int read;
                while ((read = await body.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    guard.Feed(buffer, 0, read);
                    await copy.WriteAsync(buffer, 0, read, cancellationToken).ConfigureAwait(false);
                }

                copy.Position = 0;
                return copy;
            }
            catch
            {
                copy.Dispose();
                throw;
            }
        }

        /// <summary>
        /// The part MimeKit's TextBody / HtmlBody would read (MimeMessage.GetTextBody's rules): the
        /// body itself, the last matching alternative, a related multipart's root, else the first
        /// matching part of a mixed multipart, depth first; never an attachment.
        /// </summary>
        internal static TextPart? FindBody(MimeEntity? entity, bool html)
        {
            switch (entity)
            {
                case MultipartAlternative alternative:
                    for (int i = alternative.Count - 1; i >= 0; i--)
                    {
                        var found = alternative[i] is Multipart nested ? FindBody(nested, html) : Match(alternative[i], html);
                        if (found != null)
                        {
                            return found;
                        }
                    }

                    return null;
                case MultipartRelated related:
                    return related.Root is Multipart root ? FindBody(root, html) : Match(related.Root, html);
                case Multipart multipart:
                    foreach (var part in multipart)
                    {
                        var found = part is Multipart nested ? FindBody(nested, html) : Match(part, html);
                        if (found != null)
                        {
                            return found;
                        }
                    }

                    return null;
                default:
                    return Match(entity, html);
            }
        }

        private static TextPart? Match(MimeEntity? entity, bool html) =>
            entity is TextPart text && (html ? text.IsHtml : text.IsPlain) && !text.IsAttachment ? text : null;

        /// <summary>
        /// The part's decoded text, cut at <see cref="AosProtocol.ParsedBodyMaxChars"/> characters.
        /// A part whose encoded content is no longer than that cannot decode to more characters, and
        /// is read by MimeKit itself (its charset fallbacks included); a larger one is decoded as a
        /// stream, so that only the kept characters are ever held.
        /// </summary>
        private static string? BodyText(TextPart? part, ref bool truncated)
        {
            if (part == null)
            {
                return null;
            }

            var content = part.Content;
            if (content?.Stream == null || content.Stream.Length <= AosProtocol.ParsedBodyMaxChars)
            {
                return part.Text;
            }

            var encoding = part.ContentType.CharsetEncoding ?? new UTF8Encoding(false);
            using (var reader = new StreamReader(content.Open(), encoding, detectEncodingFromByteOrderMarks: false))
            {
                var kept = new char[AosProtocol.ParsedBodyMaxChars];
                int count = 0, read;
                while (count < kept.Length && (read = reader.Read(kept, count, kept.Length - count)) > 0)
                {
                    count += read;
                }

                // Read, not Peek: Peek gives -1 whenever the last read came back short, as a decoding stream's often do.
                if (reader.Read() >= 0)
                {
                    truncated = true;
                }

                return new string(kept, 0, count);
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
