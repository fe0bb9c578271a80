using System;
using System.Diagnostics;
using System.Threading;

namespace AosMail.Engine
{
    /// <summary>
    /// Where the engine reports how far a large upload has got. Like <see cref="IAosLog"/> it may
    /// be called from any thread; the cmdlets queue the reports and write them on the pipeline
    /// thread as Write-Progress. Reports are throttled by the engine; the last one has
    /// <see cref="AosTransferProgress.Completed"/> set.
    /// </summary>
    public interface IAosProgress
    {
        void Report(AosTransferProgress progress);
    }

    /// <summary>One progress report: bytes of the request body handed to the connection so far.</summary>
    public sealed class AosTransferProgress
    {
        public AosTransferProgress(string command, long bytesSent, long totalBytes, bool completed)
        {
            Command = command;
            BytesSent = bytesSent;
            TotalBytes = totalBytes;
            Completed = completed;
        }

        /// <summary>The command without the session id, e.g. "sdmailact.mail.mms".</summary>
        public string Command { get; }
        public long BytesSent { get; }
        public long TotalBytes { get; }
        public bool Completed { get; }

        public int PercentComplete => TotalBytes <= 0 ? 100 : (int)Math.Min(100, BytesSent * 100 / TotalBytes);
    }

    /// <summary>Turns the byte counts of one request into throttled reports; null below the threshold.</summary>
    internal sealed class AosProgressReporter : IDisposable
    {
        private readonly IAosProgress _progress;
        private readonly string _command;
        private readonly Stopwatch _clock = new Stopwatch();
        private long _total = -1;
        private long _lastReport;
        private int _finished;

        private AosProgressReporter(IAosProgress progress, string command)
        {
            _progress = progress;
            _command = command;
            Sent = OnSent;
        }

        public static AosProgressReporter? Create(IAosProgress? progress, string command) =>
            progress == null ? null : new AosProgressReporter(progress, command);

        /// <summary>The callback the form content calls with the running total.</summary>
        public Action<long> Sent { get; }

        public void Start(long total)
        {
            _total = total;
            _clock.Start();
            _lastReport = long.MinValue;
        }

        private bool Active => _total >= AosProtocol.ProgressThresholdBytes;

        private void OnSent(long sent)
        {
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
            _progress.Report(new AosTransferProgress(_command, sent, _total, false));
        }

        /// <summary>The closing report (once), after the answer or a failure.</summary>
        public void Finish()
        {
            if (Active && Interlocked.Exchange(ref _finished, 1) == 0)
            {
                _progress.Report(new AosTransferProgress(_command, _total, _total, true));
            }
        }

        public void Dispose() => Finish();
    }
}
