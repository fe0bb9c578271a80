using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>
    /// One form field in wire order: a plain value; a secret read from a SecureString only while
    /// it is written; or a value written by a writer (a MIME body), which is never held whole.
    /// </summary>
    public sealed class AosFormField
    {
        private AosFormField(string name, string? value, SecureString? secret, IAosValueWriter? writer)
        {
            Name = name;
            Value = value;
            Secret = secret;
            Writer = writer;
        }

        internal static AosFormField Plain(string name, string value) => new AosFormField(name, value ?? throw new ArgumentNullException(nameof(value)), null, null);

        internal static AosFormField Secured(string name, SecureString secret) => new AosFormField(name, null, secret ?? throw new ArgumentNullException(nameof(secret)), null);

        internal static AosFormField Streamed(string name, IAosValueWriter writer) => new AosFormField(name, null, null, writer ?? throw new ArgumentNullException(nameof(writer)));

        public string Name { get; }

        /// <summary>The value, when it is a plain one; null for a secret or a streamed value.</summary>
        public string? Value { get; }

        /// <summary>True when the value is written straight to the request by a writer (a MIME body).</summary>
        public bool IsStreamed => Writer != null;

        internal SecureString? Secret { get; }

        internal IAosValueWriter? Writer { get; }

        /// <summary>
        /// The whole value as text (UTF-8, CRLF line endings, as it goes on the wire before form
        /// encoding). For tests and diagnostics only: a streamed value is built in memory here.
        /// </summary>
        internal string Materialize()
        {
            if (Writer == null)
            {
                return Value ?? throw new InvalidOperationException("A secret field is never materialized.");
            }

            using (var buffer = new MemoryStream())
            {
                Writer.WriteTo(buffer, CancellationToken.None);
                return AosFormBuilder.NormalizeNewLines(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            }
        }

        public override string ToString() => Name + (IsStreamed ? "=[streamed]" : Secret != null ? "=[secret]" : "=" + Value);
    }

    /// <summary>
    /// docs/aos-protocol.md B2: application/x-www-form-urlencoded; charset=utf-8, written straight to the request
    /// stream through <see cref="AosFormEncodingStream"/>. Content-Length comes from writing the
    /// same form into <see cref="Stream.Null"/> and counting, where an attachment's base64 is
    /// counted from its content without being encoded (<see cref="AosBase64Content"/>). A secret is
    /// decrypted only while it is written and never becomes a string; a streamed field (a MIME
    /// body) is written by its writer, once to measure and once to send, and is never held whole.
    /// </summary>
    internal sealed class AosFormContent : HttpContent
    {
        private readonly IReadOnlyList<AosFormField> _fields;
        private readonly Action<long>? _progress;
        private readonly CancellationToken _cancellationToken;
        private long _length = -1;

        /// <param name="progress">Told 0 when the handler first asks for the body, then the running total of bytes handed to the request stream.</param>
        public AosFormContent(IReadOnlyList<AosFormField> fields, Action<long>? progress = null, CancellationToken cancellationToken = default)
        {
            _fields = fields ?? throw new ArgumentNullException(nameof(fields));
            _progress = progress;
            _cancellationToken = cancellationToken;
            Headers.ContentType = new MediaTypeHeaderValue(AosProtocol.FormMediaType) { CharSet = AosProtocol.FormCharset };
        }

        /// <summary>The encoded size in bytes (measured once).</summary>
        public long Length => _length >= 0 ? _length : (_length = Measure(_fields, _cancellationToken));

        protected override bool TryComputeLength(out long length)
        {
            length = Length;
            return true;
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            _progress?.Invoke(0);
            return WriteAsync(_fields, stream, _progress, (writer, output) => writer.WriteToAsync(output, _cancellationToken), _cancellationToken);
        }

        /// <summary>
        /// The measuring pass. MIME bodies are written synchronously here and Stream.Null completes
        /// every write at once, so the shared writer finishes without waiting on anything.
        /// </summary>
        internal static long Measure(IReadOnlyList<AosFormField> fields, CancellationToken cancellationToken = default) =>
            WriteAsync(fields, Stream.Null, null, (writer, output) =>
            {
                writer.WriteTo(output, cancellationToken);
                return Task.CompletedTask;
            }, cancellationToken).GetAwaiter().GetResult();

        /// <summary>The exact bytes, for tests.</summary>
        internal byte[] ToArray()
        {
            using (var stream = new MemoryStream())
            {
                CopyToAsync(stream).GetAwaiter().GetResult();
                return stream.ToArray();
            }
        }

        /// <summary>Writes the form into <paramref name="sink"/>; returns the bytes written.</summary>
        private static async Task<long> WriteAsync(IReadOnlyList<AosFormField> fields, Stream sink, Action<long>? progress,
            Func<IAosValueWriter, Stream, Task> writeStreamed, CancellationToken cancellationToken)
        {
            using (var output = new AosFormEncodingStream(sink, progress))
            {
                for (int i = 0; i < fields.Count; i++)
                {
                    var field = fields[i];
                    if (i > 0)
                    {
                        await output.WriteSeparatorAsync('&', cancellationToken).ConfigureAwait(false);
                    }

                    await WriteTextAsync(output, field.Name, cancellationToken).ConfigureAwait(false);
                    await output.WriteSeparatorAsync('=', cancellationToken).ConfigureAwait(false);
                    if (field.Secret != null)
                    {
                        await WriteSecretAsync(output, field.Secret, cancellationToken).ConfigureAwait(false);
                    }
                    else if (field.Writer != null)
                    {
                        await writeStreamed(field.Writer, output).ConfigureAwait(false);
                    }
                    else
                    {
                        await WriteTextAsync(output, field.Value!, cancellationToken).ConfigureAwait(false);
                    }
                }

                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                return output.Written;
            }
        }

        /// <summary>UTF-8, a lone surrogate as U+FFFD (what <see cref="Encoding.UTF8"/> does).</summary>
        private static Task WriteTextAsync(Stream output, string text, CancellationToken cancellationToken)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            return output.WriteAsync(bytes, 0, bytes.Length, cancellationToken);
        }

        /// <summary>
        /// The secret's characters and their UTF-8 bytes exist only for this write and are zeroed
        /// after it; the encoder is drained at once so its buffer does not keep them either.
        /// </summary>
        private static async Task WriteSecretAsync(AosFormEncodingStream output, SecureString secret, CancellationToken cancellationToken)
        {
            var chars = new char[secret.Length];
            byte[]? bytes = null;
            var unmanaged = Marshal.SecureStringToGlobalAllocUnicode(secret);
            try
            {
                Marshal.Copy(unmanaged, chars, 0, chars.Length);
                bytes = Encoding.UTF8.GetBytes(chars);
                await output.WriteAsync(bytes, 0, bytes.Length, cancellationToken).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Marshal.ZeroFreeGlobalAllocUnicode(unmanaged);
                Array.Clear(chars, 0, chars.Length);
                if (bytes != null)
                {
                    Array.Clear(bytes, 0, bytes.Length);
                }
            }
        }
    }
}
