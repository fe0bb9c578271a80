using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using AosMail.Engine;

namespace AosMail.Internal
{
    /// <summary>
    /// Collects the engine's log lines and progress reports from whatever thread the requests run
    /// on, so that the cmdlet can write them on the pipeline thread (WriteVerbose and WriteProgress
    /// may not be called elsewhere). One queue may serve several requests in flight at once.
    /// </summary>
    /// <remarks>
    /// The pipeline thread waits here for the work. BlockingCollection's SemaphoreSlim
    /// spins before it sleeps, and a trace of a bulk send showed the pipeline thread spinning for
    /// most of each request, taking a core from the HTTP work and the server on a small machine;
    /// so the wait is an event with no spinning at all.
    /// </remarks>
    internal sealed class QueuedLog : IAosLog, IAosProgress
    {
        private readonly ConcurrentQueue<LogLine> _lines = new ConcurrentQueue<LogLine>();
        private readonly ManualResetEventSlim _signal = new ManualResetEventSlim(false, spinCount: 0);
        private readonly bool _verbose;
        private readonly bool _debug;
        private readonly bool _progress;

        /// <summary>
        /// Lines of a stream nobody will see are dropped here, so that a bulk send with Verbose
        /// and Debug off does not wake the pipeline thread for every line of every request.
        /// </summary>
        public QueuedLog(bool verbose, bool debug, bool progress)
        {
            _verbose = verbose;
            _debug = debug;
            _progress = progress;
        }

        public bool IsVerboseEnabled => _verbose;

        public bool IsDebugEnabled => _debug;

        /// <summary>This queue as the work's progress sink, or null when progress is not wanted.</summary>
        public IAosProgress? Progress => _progress ? this : null;

        /// <summary>As <see cref="Progress"/>, the reports carrying <paramref name="label"/>: what the user calls the transfer.</summary>
        public IAosProgress? ProgressFor(string? label) => label is null || !_progress ? Progress : new Labelled(this, label);

        public void Verbose(string message)
        {
            if (_verbose) Add(new LogLine(false, message, null));
        }

        public void Debug(string message)
        {
            if (_debug) Add(new LogLine(true, message, null));
        }

        public void Report(AosTransferProgress progress)
        {
            if (_progress) Add(new LogLine(false, null, progress));
        }

        private sealed class Labelled : IAosProgress
        {
            private readonly QueuedLog _queue;
            private readonly string _label;

            public Labelled(QueuedLog queue, string label)
            {
                _queue = queue;
                _label = label;
            }

            public void Report(AosTransferProgress progress) => _queue.Add(new LogLine(false, null, progress, _label));
        }

        private void Add(LogLine line)
        {
            _lines.Enqueue(line);
            _signal.Set();
        }

        /// <summary>
        /// The queued lines in order, waiting (without spinning) for more until
        /// <paramref name="work"/> has finished; lines other work queues after that wait for the next call.
        /// </summary>
        public IEnumerable<LogLine> DrainUntil(Task work)
        {
            // Synchronously: the thread that completes the work wakes this one, with no extra pool item.
            work.ContinueWith((_, signal) => ((ManualResetEventSlim)signal!).Set(), _signal, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            while (true)
            {
                while (_lines.TryDequeue(out LogLine line))
                {
                    yield return line;
                }

                if (work.IsCompleted)
                {
                    // The work's last lines may have raced its completion: take what is there, then stop.
                    while (_lines.TryDequeue(out LogLine line))
                    {
                        yield return line;
                    }

                    yield break;
                }

                // Reset before looking again, so that a Set after the look is never lost.
                _signal.Reset();
                if (!_lines.IsEmpty || work.IsCompleted) continue;
                _signal.Wait();
            }
        }

        internal readonly struct LogLine
        {
            public LogLine(bool isDebug, string? message, AosTransferProgress? progress, string? label = null)
            {
                IsDebug = isDebug;
                Message = message;
                Progress = progress;
                Label = label;
            }

            public bool IsDebug { get; }
            public string? Message { get; }

            /// <summary>Set for a progress report (Message is then null).</summary>
            public AosTransferProgress? Progress { get; }

            /// <summary>What the user calls the transfer of a progress report, or null.</summary>
            public string? Label { get; }
        }
    }
}
