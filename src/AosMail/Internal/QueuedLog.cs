using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using AosMail.Engine;

namespace AosMail.Internal
{
    /// <summary>
    /// Collects the engine's log lines and progress reports from whatever thread the request runs
    /// on, so that the cmdlet can write them on the pipeline thread (WriteVerbose and WriteProgress
    /// may not be called elsewhere).
    /// </summary>
    /// <remarks>
    /// The pipeline thread waits here for the whole request. BlockingCollection's SemaphoreSlim
    /// spins before it sleeps, and a trace of a bulk send showed the pipeline thread spinning for
    /// most of each request, taking a core from the HTTP work and the server on a small machine;
    /// so the wait is an event with no spinning at all.
    /// </remarks>
    internal sealed class QueuedLog : IAosLog, IAosProgress
    {
        private readonly ConcurrentQueue<LogLine> _lines = new ConcurrentQueue<LogLine>();
        private readonly ManualResetEventSlim _signal = new ManualResetEventSlim(false, spinCount: 0);
        private volatile bool _completed;
        private readonly bool _verbose;
        private readonly bool _debug;

        /// <summary>
        /// Lines of a stream nobody will see are dropped here, so that a bulk send with Verbose
        /// and Debug off does not wake the pipeline thread for every line of every request.
        /// </summary>
        public QueuedLog(bool verbose, bool debug)
        {
            _verbose = verbose;
            _debug = debug;
        }

        public bool IsVerboseEnabled => _verbose;

        public bool IsDebugEnabled => _debug;

        public void Verbose(string message)
        {
            if (_verbose) Add(new LogLine(false, message, null));
        }

        public void Debug(string message)
        {
            if (_debug) Add(new LogLine(true, message, null));
        }

        public void Report(AosTransferProgress progress) => Add(new LogLine(false, null, progress));

        private void Add(LogLine line)
        {
            // Lines that arrive after the work finished are dropped.
            if (_completed) return;
            _lines.Enqueue(line);
            _signal.Set();
        }

        /// <summary>Called once the work has finished: Drain ends after the lines already queued.</summary>
        public void Complete()
        {
            _completed = true;
            _signal.Set();
        }

        /// <summary>The queued lines in order, waiting (without spinning) for more until Complete.</summary>
        public IEnumerable<LogLine> Drain()
        {
            while (true)
            {
                while (_lines.TryDequeue(out LogLine line))
                {
                    yield return line;
                }

                if (_completed)
                {
                    // Complete may have raced a last Add: take what is left, then stop.
                    while (_lines.TryDequeue(out LogLine line))
                    {
                        yield return line;
                    }

                    _signal.Dispose();
                    yield break;
                }

                // Reset before looking again, so that a Set after the look is never lost.
                _signal.Reset();
                if (!_lines.IsEmpty || _completed) continue;
                _signal.Wait();
            }
        }

        internal readonly struct LogLine
        {
            public LogLine(bool isDebug, string? message, AosTransferProgress? progress)
            {
                IsDebug = isDebug;
                Message = message;
                Progress = progress;
            }

            public bool IsDebug { get; }
            public string? Message { get; }

            /// <summary>Set for a progress report (Message is then null).</summary>
            public AosTransferProgress? Progress { get; }
        }
    }
}
