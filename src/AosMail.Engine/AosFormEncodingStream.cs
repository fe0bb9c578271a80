using System;
using System.Buffers;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>
    /// A write-only stream that form-encodes the bytes written to it (the WHATWG byte rules of
    /// <see cref="AosFormEncoding"/>) into a pooled buffer and passes them on to the inner stream,
    /// or only counts them when there is no inner stream (the measuring pass). Line endings are
    /// made CRLF on the way (B9: a bare CR or LF becomes CRLF), so a value written in any number
    /// of pieces encodes exactly as the whole value would.
    /// </summary>
    internal sealed class AosFormEncodingStream : Stream
    {
        private const int BufferSize = 64 * 1024;

        /// <summary>The encoded form of every byte value: one literal byte or "%XX" (space is "+").</summary>
        private static readonly byte[][] Encoded = CreateTable();

        /// <summary>1 for a byte that is written as itself (the fast path), else 0.</summary>
        private static readonly byte[] Literal = CreateLiteralTable();

        // Tiered JIT would run the byte loops unoptimized for the first megabytes of a send.
        private const MethodImplOptions Hot = (MethodImplOptions)512; // AggressiveOptimization (.NET Core 3.0+)

        private readonly Stream? _inner;
        private readonly Action<int>? _flushed;
        private byte[]? _buffer;
        private int _used;
        private bool _pendingCr;
        private long _count;

        /// <param name="inner">Where the encoded bytes go; null to count them only.</param>
        /// <param name="flushed">Told how many bytes went to <paramref name="inner"/> after each write to it.</param>
        public AosFormEncodingStream(Stream? inner, Action<int>? flushed = null)
        {
            _inner = inner;
            _flushed = flushed;
            _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        }

        /// <summary>Encoded bytes produced so far (written or counted).</summary>
        public long EncodedLength => _count + _used;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            int end = offset + count;
            if (_inner == null)
            {
                Count(buffer, offset, end);
                return;
            }

            while (offset < end)
            {
                offset = Encode(buffer, offset, end);
                if (offset < end || Room < MaxStep)
                {
                    Drain();
                }
            }
        }

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            int end = offset + count;
            if (_inner == null)
            {
                Count(buffer, offset, end);
                return;
            }

            while (offset < end)
            {
                offset = Encode(buffer, offset, end);
                if (offset < end || Room < MaxStep)
                {
                    await DrainAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        /// <summary>Ends the value: a trailing bare CR becomes CRLF; everything is passed on.</summary>
        public void Complete()
        {
            FinishLine();
            Drain();
        }

        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            FinishLine();
            await DrainAsync(cancellationToken).ConfigureAwait(false);
        }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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

        // A CRLF pair encodes to 6 bytes, the most one input byte can produce (a bare CR then a byte).
        private const int MaxStep = 9;

        private int Room => Buffer.Length - _used;

        private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(AosFormEncodingStream));

        /// <summary>The measuring pass: the same rules as <see cref="Encode"/>, bytes counted only.</summary>
        [MethodImpl(Hot)]
        private void Count(byte[] source, int offset, int end)
        {
            var literal = Literal;
            long count = _count;
            bool pendingCr = _pendingCr;
            while (offset < end)
            {
                if (!pendingCr)
                {
                    int start = offset;
                    while (offset < end && literal[source[offset]] != 0)
                    {
                        offset++;
                    }

                    count += offset - start;
                    if (offset == end)
                    {
                        break;
                    }
                }

                byte b = source[offset++];
                if (b == (byte)'\r')
                {
                    if (pendingCr)
                    {
                        count += 6;
                    }

                    pendingCr = true;
                    continue;
                }

                if (pendingCr)
                {
                    count += 6;
                    pendingCr = false;
                    if (b == (byte)'\n')
                    {
                        continue;
                    }
                }
                else if (b == (byte)'\n')
                {
                    count += 6;
                    continue;
                }

                count += Encoded[b].Length;
            }

            _count = count;
            _pendingCr = pendingCr;
        }

        /// <summary>Encodes from offset while a whole step fits; returns where it stopped.</summary>
        [MethodImpl(Hot)]
        private int Encode(byte[] source, int offset, int end)
        {
            var output = Buffer;
            var literal = Literal;
            int used = _used;
            int limit = output.Length - MaxStep;
            bool pendingCr = _pendingCr;
            while (offset < end && used <= limit)
            {
                if (!pendingCr)
                {
                    // The fast path: a run of bytes that are written as themselves, copied at once.
                    int start = offset;
                    int stop = Math.Min(end, offset + (limit - used) + 1);
                    while (offset < stop && literal[source[offset]] != 0)
                    {
                        offset++;
                    }

                    int run = offset - start;
                    if (run > 0)
                    {
                        System.Buffer.BlockCopy(source, start, output, used, run);
                        used += run;
                        continue;
                    }
                }

                byte b = source[offset++];
                if (b == (byte)'\r')
                {
                    if (pendingCr)
                    {
                        used = PutCrLf(output, used);
                    }

                    pendingCr = true;
                    continue;
                }

                if (b == (byte)'\n')
                {
                    used = PutCrLf(output, used);
                    pendingCr = false;
                    continue;
                }

                if (pendingCr)
                {
                    used = PutCrLf(output, used);
                    pendingCr = false;
                }

                var encoded = Encoded[b];
                if (encoded.Length == 1)
                {
                    output[used++] = encoded[0];
                }
                else
                {
                    output[used] = encoded[0];
                    output[used + 1] = encoded[1];
                    output[used + 2] = encoded[2];
                    used += 3;
                }
            }

            _used = used;
            _pendingCr = pendingCr;
            return offset;
        }

        private void FinishLine()
        {
            if (_pendingCr)
            {
                if (Room < MaxStep)
                {
                    Drain();
                }

                _used = PutCrLf(Buffer, _used);
                _pendingCr = false;
            }
        }

        private static int PutCrLf(byte[] output, int used)
        {
            output[used] = (byte)'%';
            output[used + 1] = (byte)'0';
            output[used + 2] = (byte)'D';
            output[used + 3] = (byte)'%';
            output[used + 4] = (byte)'0';
            output[used + 5] = (byte)'A';
            return used + 6;
        }

        private void Drain()
        {
            int used = _used;
            if (used == 0)
            {
                return;
            }

            _inner?.Write(Buffer, 0, used);
            Drained(used);
        }

        private async Task DrainAsync(CancellationToken cancellationToken)
        {
            int used = _used;
            if (used == 0)
            {
                return;
            }

            if (_inner != null)
            {
                await _inner.WriteAsync(Buffer, 0, used, cancellationToken).ConfigureAwait(false);
            }

            Drained(used);
        }

        private void Drained(int used)
        {
            _count += used;
            _used = 0;
            if (_inner != null)
            {
                _flushed?.Invoke(used);
            }
        }

        private static byte[] CreateLiteralTable()
        {
            var table = new byte[256];
            for (int b = 0; b < 256; b++)
            {
                table[b] = (byte)(b != ' ' && Encoded[b].Length == 1 && Encoded[b][0] == b ? 1 : 0);
            }

            return table;
        }

        private static byte[][] CreateTable()
        {
            var table = new byte[256][];
            var scratch = new byte[AosFormEncoding.MaxBytesPerStep];
            for (int b = 0; b < 256; b++)
            {
                int n = AosFormEncoding.EncodeByte(scratch, 0, b);
                table[b] = new byte[n];
                Array.Copy(scratch, table[b], n);
            }

            return table;
        }
    }
}
