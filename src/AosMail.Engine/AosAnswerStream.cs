using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>Reads a streamed answer: its bytes, and its Content-Length when the server gave one.</summary>
    internal delegate Task AosAnswerReader(Stream body, long? length, CancellationToken cancellationToken);

    /// <summary>
    /// A streamed answer (rdmail, docs/aos-protocol.md B23) as its reader sees it: the start that
    /// was already read to check it, then the rest from the network. Each piece read counts as
    /// progress for the request's timer (B22). A failure of the network read is wrapped in
    /// <see cref="AosAnswerReadException"/>, so that the request can tell it (a transport fault)
    /// from a failure of the reader's own work, such as a full disk.
    /// </summary>
    internal sealed class AosAnswerStream : Stream
    {
        private readonly byte[] _start;
        private readonly Stream _rest;
        private readonly AosNoProgressTimer _timer;
        private int _startOffset;
        private long _read;

        public AosAnswerStream(byte[] start, int startLength, Stream rest, AosNoProgressTimer timer)
        {
            _start = start;
            _startOffset = 0;
            StartLength = startLength;
            _rest = rest;
            _timer = timer;
        }

        private int StartLength { get; }

        /// <summary>Bytes handed to the reader so far.</summary>
        public long BytesRead => _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (count == 0)
            {
                return 0;
            }

            int taken;
            if (_startOffset < StartLength)
            {
                taken = Math.Min(count, StartLength - _startOffset);
                Buffer.BlockCopy(_start, _startOffset, buffer, offset, taken);
                _startOffset += taken;
            }
            else
            {
                try
                {
                    taken = await _rest.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
                {
                    throw new AosAnswerReadException(ex);
                }

                _timer.Progress();
            }

            _read += taken;
            return taken;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Reading a streamed answer from the network failed (the inner exception says how).</summary>
    internal sealed class AosAnswerReadException : IOException
    {
        public AosAnswerReadException(Exception inner)
            : base(inner.Message, inner)
        {
        }
    }
}
