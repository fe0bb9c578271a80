using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>
    /// Where the engine reports how far a large upload, or a large message read, has got. Like <see cref="IAosLog"/> it may
    /// be called from any thread; the cmdlets queue the reports and write them on the pipeline
    /// thread as Write-Progress. Reports are throttled by the engine; the last one has
    /// <see cref="AosTransferProgress.Completed"/> set.
    /// </summary>
    public interface IAosProgress
    {
        void Report(AosTransferProgress progress);
    }

    /// <summary>One progress report: bytes of the request body handed to the connection so far, or of a message read.</summary>
    public sealed class AosTransferProgress
    {
        public AosTransferProgress(string command, long bytesSent, long totalBytes, bool completed, bool download = false)
        {
            Command = command;
            BytesSent = bytesSent;
            TotalBytes = totalBytes;
            Completed = completed;
            Download = download;
        }

        /// <summary>The command without the session id, e.g. "sdmailact.mail.mms".</summary>
        public string Command { get; }

        /// <summary>Bytes moved so far: sent for an upload, received for a <see cref="Download"/>.</summary>
        public long BytesSent { get; }

        /// <summary>The whole size; -1 for a download whose size the server did not say.</summary>
        public long TotalBytes { get; }
        public bool Completed { get; }

        /// <summary>True for an answer being read (rdmail), false for a request being sent.</summary>
        public bool Download { get; }

        /// <summary>The least time between two reports of one transfer (and between two count records of a cmdlet).</summary>
        public static TimeSpan Interval => AosProtocol.ProgressInterval;

        /// <summary>0 to 100; -1 when the total is unknown.</summary>
        public int PercentComplete => TotalBytes < 0 ? -1 : TotalBytes == 0 ? 100 : (int)Math.Min(100, BytesSent * 100 / TotalBytes);
    }

    /// <summary>
    /// Turns the byte counts of one request (or of one answer read) into throttled reports, from
    /// <see cref="AosProtocol.ProgressThresholdBytes"/> on: smaller transfers report nothing.
    /// </summary>
    internal sealed class AosProgressReporter : IDisposable
    {
        private readonly IAosProgress _progress;
        private readonly string _command;
        private readonly bool _download;
        private readonly Stopwatch _clock = new Stopwatch();
        private long _total = -1;
        private long _done;
        private long _lastReport;
        private int _finished;

        private AosProgressReporter(IAosProgress progress, string command, bool download)
        {
            _progress = progress;
            _command = command;
            _download = download;
            Sent = OnSent;
        }

        public static AosProgressReporter? Create(IAosProgress? progress, string command, bool download = false) =>
            progress == null ? null : new AosProgressReporter(progress, command, download);

        /// <summary>The callback the form content (or the answer stream) calls with the running total.</summary>
        public Action<long> Sent { get; }

        /// <summary>Starts the clock; <paramref name="total"/> is -1 for a download of unknown size.</summary>
        public void Start(long total)
        {
            _total = total;
            _clock.Start();
            _lastReport = long.MinValue;
        }

        /// <summary>A transfer of unknown size counts as large once that many bytes have moved.</summary>
        private bool Active => (_total < 0 ? Interlocked.Read(ref _done) : _total) >= AosProtocol.ProgressThresholdBytes;

        private void OnSent(long sent)
        {
            Interlocked.Exchange(ref _done, sent);
            if (!Active)
            {
                return;
            }

            long now = _clock.ElapsedMilliseconds;
            if (_lastReport != long.MinValue && now - _lastReport < (long)AosProtocol.ProgressInterval.TotalMilliseconds)
            {
                return;
            }

            _lastReport = now;
            _progress.Report(new AosTransferProgress(_command, sent, _total, false, _download));
        }

        /// <summary>The closing report (once), after the answer or a failure.</summary>
        public void Finish()
        {
            if (Active && Interlocked.Exchange(ref _finished, 1) == 0)
            {
                long done = _total < 0 ? Interlocked.Read(ref _done) : _total;
                _progress.Report(new AosTransferProgress(_command, done, _total, true, _download));
            }
        }

        public void Dispose() => Finish();
    }

    /// <summary>A read-only view of an answer's body that tells a reporter how many bytes were read.</summary>
    internal sealed class AosProgressStream : Stream
    {
        private readonly Stream _inner;
        private readonly Action<long> _read;
        private long _total;

        public AosProgressStream(Stream inner, Action<long> read)
        {
            _inner = inner;
            _read = read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _total; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(_inner.Read(buffer, offset, count));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Count(await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false));

        private int Count(int read)
        {
            if (read > 0)
            {
                _total += read;
                _read(_total);
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
