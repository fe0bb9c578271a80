using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using static System.FormattableString;

namespace AosMail.Engine
{
    /// <summary>
    /// An attachment file read as exactly the length it had when the message was prepared.
    /// The request's Content-Length is measured from that length, so a file that grows or
    /// shrinks while it is sent would make the request lie about its size. Strict (the sending
    /// pass): a difference throws <see cref="AosContentChangedException"/> while the request body
    /// is still incomplete (the form's last fields follow the body), so the server cannot act on
    /// it (docs/aos-protocol.md B22). Lenient (the measuring pass): reading stops at the length,
    /// so not even /dev/zero-like content can make measuring endless.
    /// </summary>
    internal sealed class AosFixedLengthStream : Stream
    {
        private readonly Stream _inner;
        private readonly long _length;
        private readonly bool _strict;
        private readonly string _name;
        private readonly long _start;
        private readonly bool _leaveOpen;
        private readonly string _kind;
        private long _read;

        /// <summary>What a -BodyPath file is called in the messages (an attachment is "attachment").</summary>
        internal const string BodyFileKind = "body file";

        /// <param name="start">Where the content starts in <paramref name="inner"/> (a stream given part-read).</param>
        /// <param name="leaveOpen">The caller's stream: read, never disposed.</param>
        /// <param name="kind">What the content is called in messages.</param>
        public AosFixedLengthStream(Stream inner, long length, bool strict, string name, long start = 0, bool leaveOpen = false, string kind = "attachment")
        {
            _kind = kind;
            _inner = inner ?? throw new ArgumentNullException(nameof(inner));
            _length = length;
            _strict = strict;
            _name = name;
            _start = start;
            _leaveOpen = leaveOpen;
        }

        public override bool CanRead => true;

        /// <summary>MimeKit wants a seekable content stream (it rewinds it for each write).</summary>
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => _length;

        public override long Position
        {
            get => _read;
            set => Seek(value, SeekOrigin.Begin);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_read >= _length)
            {
                if (_strict && ReadChecked(new byte[1], 0, 1) > 0)
                {
                    throw Changed("grew");
                }

                return 0;
            }

            return Account(ReadChecked(buffer, offset, (int)Math.Min(count, _length - _read)));
        }

        private int ReadChecked(byte[] buffer, int offset, int count)
        {
            try
            {
                return ReadInner(buffer, offset, count);
            }
            catch (Exception e) when (IsReadFailure(e) || (_leaveOpen && IsCallersFailure(e)))
            {
                throw Unreadable(_name, e, _kind);
            }
        }

        /// <summary>
        /// A caller's stream may be the content of several rows (-Attachments given once for a
        /// piped CSV, sent at once with -ThrottleLimit): each read seeks to this pass's own position
        /// under a lock, and leaves the stream where it stood.
        /// </summary>
        private int ReadInner(byte[] buffer, int offset, int count)
        {
            if (!_leaveOpen)
            {
                return _inner.Read(buffer, offset, count);
            }

            // The caller's position is put back: the next row given the same stream starts where this one did.
            lock (_inner)
            {
                long callers = _inner.Position;
                try
                {
                    _inner.Seek(_start + _read, SeekOrigin.Begin);
                    return _inner.Read(buffer, offset, count);
                }
                finally
                {
                    _inner.Position = callers;
                }
            }
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_read >= _length)
            {
                if (_strict && await ReadCheckedAsync(new byte[1], 0, 1, cancellationToken).ConfigureAwait(false) > 0)
                {
                    throw Changed("grew");
                }

                return 0;
            }

            return Account(await ReadCheckedAsync(buffer, offset, (int)Math.Min(count, _length - _read), cancellationToken).ConfigureAwait(false));
        }

        /// <summary>A caller's stream is read under its lock (<see cref="ReadInner"/>), so at once; a file of our own, asynchronously.</summary>
        private async Task<int> ReadCheckedAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_leaveOpen)
            {
                return ReadChecked(buffer, offset, count);
            }

            try
            {
                return await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsReadFailure(e))
            {
                throw Unreadable(_name, e, _kind);
            }
        }

        private int Account(int read)
        {
            if (read == 0 && _strict)
            {
                throw Changed("shrank");
            }

            _read += read;
            return read;
        }

        /// <summary>
        /// One pass over a file prepared at <paramref name="length"/> bytes: sequential reads with a
        /// big buffer and the OS read-ahead hint. A file gone or locked since the message was
        /// prepared cuts the request (<see cref="Unreadable"/>): nothing is sent.
        /// </summary>
        internal static AosFixedLengthStream OpenFile(string path, long length, bool strict, string name, string kind = "attachment")
        {
            FileStream file;
            try
            {
                file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
            }
            catch (Exception e) when (IsReadFailure(e))
            {
                throw Unreadable(name, e, kind);
            }

            return new AosFixedLengthStream(file, length, strict, name, kind: kind);
        }

        /// <summary>A file that cannot be read: an I/O error (EIO, a lost share) or lost access. Not the module's own exceptions.</summary>
        internal static bool IsReadFailure(Exception e) =>
            (e is IOException && !(e is AosContentChangedException) && !(e is AosContentReadException)) || e is UnauthorizedAccessException;

        /// <summary>A caller's stream may fail any way it likes (a script class throws what it throws): all of it is a read failure but a cancellation.</summary>
        private static bool IsCallersFailure(Exception e) =>
            !(e is OperationCanceledException) && !(e is AosContentChangedException) && !(e is AosContentReadException);

        internal static AosContentReadException Unreadable(string name, Exception cause, string kind = "attachment") =>
            new AosContentReadException($"The {kind} '{name}' could not be read while it was being sent: {cause.Message}", cause);

        private AosContentChangedException Changed(string how) => new AosContentChangedException(
            Invariant($"The {_kind} '{_name}' {how} while it was being sent (it had {_length} bytes when the message was prepared)"));

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_leaveOpen)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long target = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? _read + offset : _length + offset;
            if (target < 0 || target > _length)
            {
                throw new ArgumentOutOfRangeException(nameof(offset));
            }

            // A shared stream is positioned by each read (ReadInner); a file of our own, here.
            _read = _leaveOpen ? target : _inner.Seek(_start + target, SeekOrigin.Begin) - _start;
            return _read;
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// A file changed while it was written into a request: the request is cut before its body is
    /// complete, so nothing was sent (docs/aos-protocol.md B22); retrying would not help while the file changes.
    /// </summary>
    internal sealed class AosContentChangedException : IOException
    {
        public AosContentChangedException(string message)
            : base(message)
        {
        }
    }

    /// <summary>
    /// A file could not be read while it was written into a request (an I/O error, lost access):
    /// the request is cut before its body is complete, so nothing was sent (docs/aos-protocol.md B22).
    /// </summary>
    internal sealed class AosContentReadException : IOException
    {
        public AosContentReadException(string message, Exception inner)
            : base(message, inner)
        {
        }
    }
}
