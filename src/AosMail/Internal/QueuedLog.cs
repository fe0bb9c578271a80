using System.Collections.Concurrent;
using AosMail.Engine;

namespace AosMail.Internal
{
    /// <summary>
    /// Collects the engine's log lines and progress reports from whatever thread the request runs
    /// on, so that the cmdlet can write them on the pipeline thread (WriteVerbose and WriteProgress
    /// may not be called elsewhere).
    /// </summary>
    internal sealed class QueuedLog : IAosLog, IAosProgress
    {
        private readonly BlockingCollection<LogLine> _lines = new BlockingCollection<LogLine>();
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
            // Lines that arrive after the work finished are dropped rather than thrown.
            try { _lines.Add(line); } catch (System.InvalidOperationException) { }
        }

        public void Complete() => _lines.CompleteAdding();

        public BlockingCollection<LogLine> Lines => _lines;

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
