using System;
using System.Buffers;
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
    /// B2: application/x-www-form-urlencoded; charset=utf-8, written straight to the request
    /// stream. Content-Length comes from a measuring pass over the same writer. A secret field
    /// is decrypted into unmanaged memory for the pass and zeroed at once; it never becomes a string.
    /// A streamed field (a MIME body) is written by its writer through a form-encoding stream into
    /// the request, once to measure and once to send; it is never held whole.
    /// </summary>
    internal sealed class AosFormContent : HttpContent
    {
        private const int BufferSize = 16 * 1024;
        private readonly IReadOnlyList<AosFormField> _fields;
        private readonly Action<long>? _progress;
        private readonly CancellationToken _cancellationToken;
        private long _length = -1;

        /// <param name="progress">Told the running total of bytes handed to the request stream.</param>
        public AosFormContent(IReadOnlyList<AosFormField> fields, Action<long>? progress = null, CancellationToken cancellationToken = default)
        {
            _fields = fields ?? throw new ArgumentNullException(nameof(fields));
            _progress = progress;
            _cancellationToken = cancellationToken;
            Headers.ContentType = NewFormMediaType();
        }

        internal static MediaTypeHeaderValue NewFormMediaType() => new MediaTypeHeaderValue(AosProtocol.FormMediaType) { CharSet = AosProtocol.FormCharset };

        public IReadOnlyList<AosFormField> Fields => _fields;

        /// <summary>The encoded size in bytes (measured once).</summary>
        public long Length
        {
            get
            {
                if (_length < 0)
                {
                    _length = Measure(_fields, _cancellationToken);
                }

                return _length;
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = Length;
            return true;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            long sent = 0;
            Action<int>? counted = null;
            if (_progress != null)
            {
                counted = n =>
                {
                    sent += n;
                    _progress(sent);
                };
            }

            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                int used = 0;
                for (int i = 0; i < _fields.Count; i++)
                {
                    var field = _fields[i];
                    if (i > 0)
                    {
                        used = await EnsureRoom(stream, buffer, used, 1, counted).ConfigureAwait(false);
                        buffer[used++] = (byte)'&';
                    }

                    used = await WriteSource(stream, buffer, used, new StringSource(field.Name), counted).ConfigureAwait(false);
                    used = await EnsureRoom(stream, buffer, used, 1, counted).ConfigureAwait(false);
                    buffer[used++] = (byte)'=';
                    if (field.Secret != null)
                    {
                        using (var secret = new SecretSource(field.Secret))
                        {
                            used = await WriteSource(stream, buffer, used, secret, counted).ConfigureAwait(false);
                            // Flush now so the password bytes do not linger in the buffer.
                            used = await Flush(stream, buffer, used, counted).ConfigureAwait(false);
                        }
                    }
                    else if (field.Writer != null)
                    {
                        used = await Flush(stream, buffer, used, counted).ConfigureAwait(false);
                        using (var encoder = new AosFormEncodingStream(stream, counted))
                        {
                            await field.Writer.WriteToAsync(encoder, _cancellationToken).ConfigureAwait(false);
                            await encoder.CompleteAsync(_cancellationToken).ConfigureAwait(false);
                        }
                    }
                    else
                    {
                        used = await WriteSource(stream, buffer, used, new StringSource(field.Value!), counted).ConfigureAwait(false);
                    }
                }

                await Flush(stream, buffer, used, counted).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
            }
        }

        /// <summary>
        /// True when the form may be handed over whole (<see cref="ToWholeContent"/>): no streamed
        /// MIME body, and at most <see cref="WholeFormLimit"/> bytes encoded.
        /// </summary>
        internal bool CanSendWhole
        {
            get
            {
                foreach (var each in _fields)
                {
                    if (each.IsStreamed)
                    {
                        return false;
                    }
                }

                return Length <= WholeFormLimit;
            }
        }

        /// <summary>
        /// The largest form sent whole: holding 64 KB for the length of a request keeps memory flat
        /// (issue 6 is about megabytes), and a built-in content can be sent synchronously (see
        /// <see cref="AosConnection"/>); a MIME body or a longer form is streamed.
        /// </summary>
        internal const int WholeFormLimit = 64 * 1024;

        /// <summary>
        /// The same bytes, written by the same writer, into one pinned array that is zeroed when the
        /// content is disposed: a password in it is never copied by the garbage collector and does
        /// not outlive the request, as in the streaming writer's buffer.
        /// </summary>
        internal HttpContent ToWholeContent()
        {
            if (!CanSendWhole)
            {
                throw new InvalidOperationException("Only a short form without a MIME body is sent whole.");
            }

            var bytes = new byte[(int)Length];
            var pin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
            try
            {
                using (var stream = new MemoryStream(bytes, writable: true))
                {
                    SerializeToStreamAsync(stream, null).GetAwaiter().GetResult();
                    if (stream.Position != bytes.Length)
                    {
                        throw new InvalidOperationException("The form wrote " + stream.Position + " bytes; the measuring pass counted " + bytes.Length + ".");
                    }
                }

                return new WholeFormContent(bytes, pin);
            }
            catch
            {
                Array.Clear(bytes, 0, bytes.Length);
                pin.Free();
                throw;
            }
        }

        /// <summary>The exact bytes, for tests.</summary>
        internal byte[] ToArray()
        {
            using (var stream = new MemoryStream())
            {
                SerializeToStreamAsync(stream, null).GetAwaiter().GetResult();
                return stream.ToArray();
            }
        }

        /// <summary>The measuring pass: the same encoders, output counted and discarded.</summary>
        internal static long Measure(IReadOnlyList<AosFormField> fields, CancellationToken cancellationToken = default)
        {
            var scratch = new byte[1024];
            try
            {
                long total = 0;
                for (int i = 0; i < fields.Count; i++)
                {
                    var field = fields[i];
                    if (i > 0)
                    {
                        total++;
                    }

                    total += MeasureSource(new StringSource(field.Name), scratch) + 1;
                    if (field.Secret != null)
                    {
                        using (var secret = new SecretSource(field.Secret))
                        {
                            total += MeasureSource(secret, scratch);
                        }
                    }
                    else if (field.Writer != null)
                    {
                        using (var counter = new AosFormEncodingStream(null))
                        {
                            field.Writer.WriteTo(counter, cancellationToken);
                            counter.Complete();
                            total += counter.EncodedLength;
                        }
                    }
                    else
                    {
                        total += MeasureSource(new StringSource(field.Value!), scratch);
                    }
                }

                return total;
            }
            finally
            {
                Array.Clear(scratch, 0, scratch.Length);
            }
        }

        private static long MeasureSource(ICharSource source, byte[] scratch)
        {
            long total = 0;
            int position = 0;
            while (position < source.Length)
            {
                total += AosFormEncoding.Encode(source, ref position, scratch, 0, scratch.Length);
            }

            return total;
        }

        private static async Task<int> WriteSource(Stream stream, byte[] buffer, int used, ICharSource source, Action<int>? counted)
        {
            int position = 0;
            while (position < source.Length)
            {
                used = await EnsureRoom(stream, buffer, used, AosFormEncoding.MaxBytesPerStep, counted).ConfigureAwait(false);
                used += AosFormEncoding.Encode(source, ref position, buffer, used, buffer.Length - used);
            }

            return used;
        }

        private static async Task<int> EnsureRoom(Stream stream, byte[] buffer, int used, int needed, Action<int>? counted)
        {
            if (buffer.Length - used >= needed)
            {
                return used;
            }

            return await Flush(stream, buffer, used, counted).ConfigureAwait(false);
        }

        private static async Task<int> Flush(Stream stream, byte[] buffer, int used, Action<int>? counted)
        {
            if (used > 0)
            {
                await stream.WriteAsync(buffer, 0, used).ConfigureAwait(false);
                Array.Clear(buffer, 0, used);
                counted?.Invoke(used);
            }

            return 0;
        }

        private sealed class StringSource : ICharSource
        {
            private readonly string _text;
            public StringSource(string text) => _text = text;
            public int Length => _text.Length;
            public char this[int index] => _text[index];
        }

        /// <summary>A SecureString decrypted into unmanaged memory, zeroed and freed on Dispose.</summary>
        private sealed class SecretSource : ICharSource, IDisposable
        {
            private IntPtr _chars;

            public SecretSource(SecureString secret)
            {
                Length = secret.Length;
                _chars = Marshal.SecureStringToGlobalAllocUnicode(secret);
            }

            public int Length { get; }

            public char this[int index] => (char)Marshal.ReadInt16(_chars, index * 2);

            public void Dispose()
            {
                if (_chars != IntPtr.Zero)
                {
                    Marshal.ZeroFreeGlobalAllocUnicode(_chars);
                    _chars = IntPtr.Zero;
                }
            }
        }
    }

    /// <summary>A whole form (see <see cref="AosFormContent.ToWholeContent"/>): zeroed and unpinned on Dispose.</summary>
    internal sealed class WholeFormContent : ByteArrayContent
    {
        private readonly byte[] _bytes;
        private GCHandle _pin;

        public WholeFormContent(byte[] bytes, GCHandle pin)
            : base(bytes)
        {
            _bytes = bytes;
            _pin = pin;
            Headers.ContentType = AosFormContent.NewFormMediaType();
        }

        protected override void Dispose(bool disposing)
        {
            if (_pin.IsAllocated)
            {
                Array.Clear(_bytes, 0, _bytes.Length);
                _pin.Free();
            }

            base.Dispose(disposing);
        }
    }

    internal interface ICharSource
    {
        int Length { get; }
        char this[int index] { get; }
    }

    /// <summary>
    /// WHATWG-style form encoding of UTF-8: ALPHA, DIGIT and "*-._" literal, space as "+",
    /// every other byte as %XX (uppercase). A lone surrogate becomes U+FFFD.
    /// </summary>
    internal static class AosFormEncoding
    {
        /// <summary>One step encodes one code point: at most 4 UTF-8 bytes, 3 characters each.</summary>
        public const int MaxBytesPerStep = 12;

        private static readonly byte[] Hex = { (byte)'0', (byte)'1', (byte)'2', (byte)'3', (byte)'4', (byte)'5', (byte)'6', (byte)'7', (byte)'8', (byte)'9', (byte)'A', (byte)'B', (byte)'C', (byte)'D', (byte)'E', (byte)'F' };

        /// <summary>Encodes from <paramref name="position"/> while a whole step fits; returns the bytes written.</summary>
        public static int Encode(ICharSource source, ref int position, byte[] buffer, int offset, int count)
        {
            int start = offset;
            int end = offset + count;
            while (position < source.Length && end - offset >= MaxBytesPerStep)
            {
                int codePoint = source[position];
                position++;
                if (codePoint >= 0xD800 && codePoint <= 0xDBFF)
                {
                    if (position < source.Length && source[position] >= 0xDC00 && source[position] <= 0xDFFF)
                    {
                        codePoint = 0x10000 + ((codePoint - 0xD800) << 10) + (source[position] - 0xDC00);
                        position++;
                    }
                    else
                    {
                        codePoint = 0xFFFD;
                    }
                }
                else if (codePoint >= 0xDC00 && codePoint <= 0xDFFF)
                {
                    codePoint = 0xFFFD;
                }

                if (codePoint < 0x80)
                {
                    offset = EncodeByte(buffer, offset, codePoint);
                }
                else if (codePoint < 0x800)
                {
                    offset = EncodeByte(buffer, offset, 0xC0 | (codePoint >> 6));
                    offset = EncodeByte(buffer, offset, 0x80 | (codePoint & 0x3F));
                }
                else if (codePoint < 0x10000)
                {
                    offset = EncodeByte(buffer, offset, 0xE0 | (codePoint >> 12));
                    offset = EncodeByte(buffer, offset, 0x80 | ((codePoint >> 6) & 0x3F));
                    offset = EncodeByte(buffer, offset, 0x80 | (codePoint & 0x3F));
                }
                else
                {
                    offset = EncodeByte(buffer, offset, 0xF0 | (codePoint >> 18));
                    offset = EncodeByte(buffer, offset, 0x80 | ((codePoint >> 12) & 0x3F));
                    offset = EncodeByte(buffer, offset, 0x80 | ((codePoint >> 6) & 0x3F));
                    offset = EncodeByte(buffer, offset, 0x80 | (codePoint & 0x3F));
                }

                codePoint = 0;
            }

            return offset - start;
        }

        internal static int EncodeByte(byte[] buffer, int offset, int value)
        {
            if ((value >= 'A' && value <= 'Z') || (value >= 'a' && value <= 'z') || (value >= '0' && value <= '9')
                || value == '*' || value == '-' || value == '.' || value == '_')
            {
                buffer[offset++] = (byte)value;
            }
            else if (value == ' ')
            {
                buffer[offset++] = (byte)'+';
            }
            else
            {
                buffer[offset++] = (byte)'%';
                buffer[offset++] = Hex[value >> 4];
                buffer[offset++] = Hex[value & 0xF];
            }

            return offset;
        }
    }
}
