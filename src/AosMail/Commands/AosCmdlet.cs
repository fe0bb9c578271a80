using System;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>
    /// What every AosMail cmdlet shares: the cancellation that Ctrl+C triggers, the bridge that
    /// runs engine work asynchronously while its log lines are written on the pipeline thread,
    /// and the mapping of engine failures to error records.
    /// </summary>
    public abstract class AosCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();

        protected CancellationToken CancelToken => _stopping.Token;

        protected override void StopProcessing() => _stopping.Cancel();

        /// <summary>
        /// Runs engine work on the thread pool and pumps its Verbose/Debug lines to this cmdlet
        /// until it completes; rethrows the work's own exception (not an AggregateException).
        /// </summary>
        internal T Run<T>(Func<IAosLog, CancellationToken, Task<T>> work)
        {
            var log = new QueuedLog();
            Task<T> task = Task.Run(() => work(log, CancelToken));
            task.ContinueWith(_ => log.Complete(), TaskScheduler.Default);
            foreach (QueuedLog.LogLine line in log.Lines.GetConsumingEnumerable())
            {
                if (line.IsDebug)
                {
                    WriteDebug(line.Message);
                }
                else
                {
                    WriteVerbose(line.Message);
                }
            }

            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        internal static ErrorRecord ToErrorRecord(AosException exception, object? target)
        {
            var category = (ErrorCategory)Enum.Parse(typeof(ErrorCategory), exception.Category.ToString());
            return new ErrorRecord(exception, exception.ErrorId, category, target ?? exception.Target);
        }

        internal static ErrorRecord NewError(string errorId, ErrorCategory category, string message, object? target, Exception? inner = null)
        {
            var engineCategory = (AosErrorCategory)Enum.Parse(typeof(AosErrorCategory), category.ToString());
            return ToErrorRecord(new AosException(errorId, engineCategory, message, target, inner), target);
        }

        public void Dispose()
        {
            Dispose(true);
            GC.SuppressFinalize(this);
        }

        protected virtual void Dispose(bool disposing)
        {
            if (disposing)
            {
                _stopping.Dispose();
            }
        }
    }
}
