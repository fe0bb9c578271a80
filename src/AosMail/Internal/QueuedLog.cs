using System.Collections.Concurrent;
using AosMail.Engine;

namespace AosMail.Internal
{
    /// <summary>
    /// Collects the engine's log lines from whatever thread the request runs on, so that the
    /// cmdlet can write them on the pipeline thread (WriteVerbose may not be called elsewhere).
    /// </summary>
    internal sealed class QueuedLog : IAosLog
    {
        private readonly BlockingCollection<LogLine> _lines = new BlockingCollection<LogLine>();

        public void Verbose(string message) => Add(new LogLine(false, message));

        public void Debug(string message) => Add(new LogLine(true, message));

        private void Add(LogLine line)
        {
            // Lines that arrive after the work finished are dropped rather than thrown.
            try { _lines.Add(line); } catch (System.InvalidOperationException) { }
        }

        public void Complete() => _lines.CompleteAdding();

        public BlockingCollection<LogLine> Lines => _lines;

        internal readonly struct LogLine
        {
            public LogLine(bool isDebug, string message)
            {
                IsDebug = isDebug;
                Message = message;
            }

            public bool IsDebug { get; }
            public string Message { get; }
        }
    }
}
