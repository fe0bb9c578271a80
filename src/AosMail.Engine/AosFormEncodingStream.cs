using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>
    /// The one form encoder (docs/aos-protocol.md B2): a write-only stream that encodes the UTF-8 bytes written to it
    /// by the WHATWG application/x-www-form-urlencoded rules (ALPHA, DIGIT and "*-._" as
    /// themselves, space as "+", every other byte as %XX in uppercase) and passes them on to the
    /// inner stream. Plain values, secrets and MIME bodies all go through it; Content-Length is
    /// found by writing the same form into <see cref="Stream.Null"/> and
    /// reading <see cref="Written"/> (an attachment's base64 is counted there, see <see cref="Count"/>).
    /// </summary>
    /// <remarks>
    /// Not <c>FormUrlEncodedContent</c>: it escapes by Uri rules ("%20", "!" kept), which the
    /// tests pin against. The buffer is cleared after each write to the inner stream, so a
    /// password in it does not outlive its own write.
    /// </remarks>
    internal sealed class AosFormEncodingStream : Stream
    {
        /// <summary>The most encoded bytes one UTF-16 char can produce: 3 UTF-8 bytes, "%XX" each.</summary>
        public const int MaxEncodedBytesPerChar = 9;

        private const int BufferSize = 16 * 1024;

        /// <summary>
        /// Each byte's encoding as the four bytes of a uint in memory order, of which the first
        /// <see cref="Width"/>[b] count: written with one 4-byte store and advanced by the width,
        /// so encoding takes no branch per byte. The encoder runs over every byte of an attachment's
        /// base64 as it is sent, and the stores run at twice the speed of a branch.
        /// </summary>
        private static readonly uint[] Encoded = new uint[256];
        private static readonly byte[] Width = new byte[256];

        private readonly Stream _inner;
        private readonly Action<long>? _progress;
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        private int _used;
        private long _written;

        static AosFormEncodingStream()
        {
            const string hex = "0123456789ABCDEF";
            for (int b = 0; b < 256; b++)
            {
                bool literal = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
                    || b == '*' || b == '-' || b == '.' || b == '_';
                bool oneByte = literal || b == ' ';
                var bytes = oneByte
                    ? new[] { literal ? (byte)b : (byte)'+', (byte)0, (byte)0, (byte)0 }
                    : new[] { (byte)'%', (byte)hex[b >> 4], (byte)hex[b & 0xF], (byte)0 };
                Encoded[b] = BitConverter.ToUInt32(bytes, 0);
                Width[b] = (byte)(oneByte ? 1 : 3);
            }
        }

        /// <param name="inner">Where the encoded bytes go; it is not disposed with this stream.</param>
        /// <param name="progress">Told the running total of encoded bytes handed to <paramref name="inner"/>.</param>
        public AosFormEncodingStream(Stream inner, Action<long>? progress = null)
        {
            _inner = inner ?? throw new ArgumentNullException(nameof(inner));
            _progress = progress;
        }

        /// <summary>Encoded bytes handed to the inner stream so far, and those counted by <see cref="Count"/>.</summary>
        public long Written => _written;

        /// <summary>
        /// The measuring pass: what is written is counted and thrown away, so a writer that knows
        /// the encoded length of a value may <see cref="Count"/> it instead of writing it.
        /// </summary>
        public bool Discards => ReferenceEquals(_inner, Stream.Null);

        /// <summary>How many bytes <paramref name="b"/> takes once encoded (1 or 3).</summary>
        public static int EncodedWidth(byte b) => Width[b];

        /// <summary><paramref name="b"/>'s encoding: the first <see cref="EncodedWidth"/> bytes of the uint in memory order, the others zero.</summary>
        public static uint EncodedBytes(byte b) => Encoded[b];

        /// <summary>Counts <paramref name="encodedBytes"/> as written, for a value whose encoded length is known (<see cref="Discards"/> only).</summary>
        public void Count(long encodedBytes)
        {
            if (!Discards)
            {
                throw new InvalidOperationException("Only a measuring pass may count bytes it does not write.");
            }

            _written += encodedBytes;
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            int end = offset + count;
            while ((offset = Encode(buffer, offset, end)) < end)
            {
                Drain();
            }
        }

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            int end = offset + count;
            while ((offset = Encode(buffer, offset, end)) < end)
            {
                await DrainAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Passes on bytes that are already form-encoded by this stream's rules (<see cref="AosBase64"/>
        /// encodes an attachment's text straight into the form), after what is buffered, and counts them.
        /// </summary>
        public void WriteEncoded(byte[] encoded, int count)
        {
            Drain();
            _inner.Write(encoded, 0, count);
            Passed(count);
        }

        /// <inheritdoc cref="WriteEncoded"/>
        public async Task WriteEncodedAsync(byte[] encoded, int count, CancellationToken cancellationToken)
        {
            await DrainAsync(cancellationToken).ConfigureAwait(false);
            await _inner.WriteAsync(encoded, 0, count, cancellationToken).ConfigureAwait(false);
            Passed(count);
        }

        /// <summary>Writes a form separator ('=' or '&amp;') as itself, not encoded.</summary>
        public async Task WriteSeparatorAsync(char separator, CancellationToken cancellationToken)
        {
            if (Buffer.Length == _used)
            {
                await DrainAsync(cancellationToken).ConfigureAwait(false);
            }

            Buffer[_used++] = (byte)separator;
        }

        public override void Flush() => Drain();

        public override Task FlushAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            var buffer = _buffer;
            _buffer = null;
            if (buffer != null)
            {
                ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
            }

            base.Dispose(disposing);
        }

        private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(AosFormEncodingStream));

        /// <summary>Encodes from <paramref name="offset"/> while the buffer has room; returns where it stopped.</summary>
        /// <remarks>Fully optimised from its first call (MethodImplOptions.AggressiveOptimization, which Mono and .NET Framework ignore): see AosBase64.</remarks>
        [System.Runtime.CompilerServices.MethodImpl((System.Runtime.CompilerServices.MethodImplOptions)512)]
        private unsafe int Encode(byte[] source, int offset, int end)
        {
            var output = Buffer;
            int used = _used;
            // Each store writes 4 bytes, so 4 must fit even when the last entry is one byte wide.
            int limit = output.Length - 4;
            fixed (byte* input = source)
            fixed (byte* target = output)
            fixed (uint* encoded = Encoded)
            fixed (byte* width = Width)
            {
                while (offset < end && used <= limit)
                {
                    byte b = input[offset++];
                    *(uint*)(target + used) = encoded[b];
                    used += width[b];
                }
            }

            _used = used;
            return offset;
        }

        private void Drain()
        {
            if (_used > 0)
            {
                _inner.Write(Buffer, 0, _used);
                Drained();
            }
        }

        private async Task DrainAsync(CancellationToken cancellationToken)
        {
            if (_used > 0)
            {
                await _inner.WriteAsync(Buffer, 0, _used, cancellationToken).ConfigureAwait(false);
                Drained();
            }
        }

        private void Drained()
        {
            Array.Clear(Buffer, 0, _used);
            int used = _used;
            _used = 0;
            Passed(used);
        }

        private void Passed(int count)
        {
            _written += count;
            _progress?.Invoke(_written);
        }
    }
}
