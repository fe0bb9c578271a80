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
        /// Runs engine work and pumps its Verbose/Debug lines to this cmdlet until it completes;
        /// rethrows the work's own exception (not an AggregateException).
        /// </summary>
        internal T Run<T>(Func<IAosLog, CancellationToken, Task<T>> work) =>
            Run<T>((log, progress, token) => work(log, token), withProgress: false);

        /// <summary>
        /// As <see cref="Run{T}(Func{IAosLog, CancellationToken, Task{T}})"/>, and the engine's progress
        /// reports become Write-Progress records (the work gets null when progress is off, or when
        /// <paramref name="withProgress"/> says the work cannot report any), titled
        /// <paramref name="progressLabel"/> when given.
        /// </summary>
        internal T Run<T>(Func<IAosLog, IAosProgress?, CancellationToken, Task<T>> work, bool withProgress = true, string? progressLabel = null)
        {
            QueuedLog? log = NewLog(withProgress);
            Task<T> task = Start(work, log, progressLabel);
            WaitFor(task, log);
            return Result(task);
        }

        /// <summary>
        /// A queue for the work's log lines (and progress reports, when <paramref name="withProgress"/>),
        /// or null when no stream would show any: a bulk send, as a rule, has nothing to pump.
        /// </summary>
        internal QueuedLog? NewLog(bool withProgress)
        {
            bool verbose = StreamWanted("Verbose", "VerbosePreference");
            bool debug = StreamWanted("Debug", "DebugPreference");
            bool progress = withProgress && ProgressWanted;
            return verbose || debug || progress ? new QueuedLog(verbose, debug, progress) : null;
        }

        /// <summary>
        /// Waits on this (the pipeline) thread until <paramref name="task"/> has finished, writing the
        /// lines and progress <paramref name="log"/> collects meanwhile (from any work that shares it).
        /// Does not throw the task's exception: <see cref="Result{T}"/> does.
        /// </summary>
        internal void WaitFor(Task task, QueuedLog? log)
        {
            if (log is null)
            {
                // Nothing to pump: this thread waits for the work as any synchronous caller does,
                // spinning briefly before it blocks. Result() then throws the work's own exception.
                try
                {
                    task.Wait();
                }
                catch (AggregateException)
                {
                }

                return;
            }

            ProgressRecord? shown = null;
            foreach (QueuedLog.LogLine line in log.DrainUntil(task))
            {
                if (line.Progress != null)
                {
                    shown = WriteTransferProgress(line.Progress, line.Label, shown);
                }
                else if (line.IsDebug)
                {
                    WriteDebug(line.Message);
                }
                else
                {
                    WriteVerbose(line.Message);
                }
            }

            if (shown != null && shown.RecordType != ProgressRecordType.Completed)
            {
                shown.RecordType = ProgressRecordType.Completed;
                WriteProgress(shown);
            }
        }

        /// <summary>The work's result, or its own exception (not an AggregateException); Ctrl+C stops the pipeline.</summary>
        internal T Result<T>(Task<T> task)
        {
            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        /// <summary>
        /// Starts the work on this (the pipeline) thread when it has no SynchronizationContext: the
        /// request is built and written here, and only what follows the first real wait runs on the
        /// pool (the engine never resumes on a captured context). A host that gives its pipeline
        /// thread a context gets the work started on the pool instead, so that nothing can wait for
        /// a context this thread is blocking. Progress reports carry <paramref name="progressLabel"/>.
        /// </summary>
        internal Task<T> Start<T>(Func<IAosLog, IAosProgress?, CancellationToken, Task<T>> work, QueuedLog? log, string? progressLabel = null)
        {
            CancellationToken token = CancelToken;
            IAosLog sink = log ?? (IAosLog)NullAosLog.Instance;
            IAosProgress? progress = log?.ProgressFor(progressLabel);
            if (SynchronizationContext.Current != null)
            {
                return Task.Run(() => work(sink, progress, token));
            }

            try
            {
                return work(sink, progress, token);
            }
            catch (Exception e)
            {
                return Task.FromException<T>(e);
            }
        }

        /// <summary>The activity id of the transfer progress bar (one per cmdlet, reused per record).</summary>
        private const int TransferActivityId = 0x405;

        /// <summary>
        /// Whether a stream is wanted: the common parameter when given (-Verbose, -Debug,
        /// -ProgressAction), else the preference variable in scope. False for SilentlyContinue and
        /// Ignore; for progress, PowerShell's host then still decides what to show (a
        /// non-interactive or redirected host shows nothing).
        /// </summary>
        private bool StreamWanted(string parameterName, string preferenceVariable)
        {
            if (MyInvocation.BoundParameters.TryGetValue(parameterName, out object? bound))
            {
                if (bound is SwitchParameter flag) return flag.IsPresent;
                if (bound is bool on) return on;
            }

            object? preference = bound ?? GetVariableValue(preferenceVariable);
            if (preference is PSObject wrapped)
            {
                preference = wrapped.BaseObject;
            }

            ActionPreference action;
            if (preference is ActionPreference value)
            {
                action = value;
            }
            else if (preference == null || !Enum.TryParse(preference.ToString(), true, out action))
            {
                return true;
            }

            return action != ActionPreference.SilentlyContinue && action != ActionPreference.Ignore;
        }

        /// <summary>
        /// One upload or download report as a progress record: titled by what the user calls the
        /// transfer (the message's subject and files, a message id) when the caller named it, with
        /// the bytes on the wire, which the form encoding makes larger than the files.
        /// </summary>
        private ProgressRecord WriteTransferProgress(AosTransferProgress progress, string? label, ProgressRecord? previous)
        {
            string activity = label ?? (progress.Download ? "Reading from the AOS server" : "Uploading to the AOS server");
            var record = previous ?? new ProgressRecord(TransferActivityId, activity, "starting");
            record.Activity = activity;
            record.StatusDescription = ProgressText.Transfer(progress);
            record.PercentComplete = progress.PercentComplete;
            record.RecordType = progress.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing;
            WriteProgress(record);
            return record;
        }

        /// <summary>Whether Write-Progress records are wanted (-ProgressAction, else $ProgressPreference).</summary>
        internal bool ProgressWanted => StreamWanted("ProgressAction", "ProgressPreference");

        /// <summary>The error record of an engine failure, carrying the public <see cref="AosMailException"/> that scripts can catch by type.</summary>
        internal static ErrorRecord ToErrorRecord(AosException exception, object? target)
        {
            ErrorCategory category = ToErrorCategory(exception.Category);
            return new ErrorRecord(AosMailException.From(exception, category), exception.ErrorId, category, target ?? exception.Target);
        }

        internal static ErrorRecord NewError(string errorId, AosErrorCategory category, string message, object? target, Exception? inner = null) =>
            ToErrorRecord(new AosException(errorId, category, message, target, inner), target);

        // No default arm: a new engine category that is not mapped here fails the build (CS8509).
        // Values outside the enum cannot come from the engine, hence CS8524 is not wanted.
#pragma warning disable CS8524
        private static ErrorCategory ToErrorCategory(AosErrorCategory category) => category switch
        {
            AosErrorCategory.NotSpecified => ErrorCategory.NotSpecified,
            AosErrorCategory.InvalidArgument => ErrorCategory.InvalidArgument,
            AosErrorCategory.InvalidData => ErrorCategory.InvalidData,
            AosErrorCategory.ObjectNotFound => ErrorCategory.ObjectNotFound,
            AosErrorCategory.AuthenticationError => ErrorCategory.AuthenticationError,
            AosErrorCategory.SecurityError => ErrorCategory.SecurityError,
            AosErrorCategory.ConnectionError => ErrorCategory.ConnectionError,
            AosErrorCategory.ProtocolError => ErrorCategory.ProtocolError,
            AosErrorCategory.OperationTimeout => ErrorCategory.OperationTimeout,
            AosErrorCategory.InvalidResult => ErrorCategory.InvalidResult,
            AosErrorCategory.InvalidOperation => ErrorCategory.InvalidOperation,
            AosErrorCategory.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
            AosErrorCategory.ResourceExists => ErrorCategory.ResourceExists,
            AosErrorCategory.WriteError => ErrorCategory.WriteError,
            AosErrorCategory.ReadError => ErrorCategory.ReadError,
        };
#pragma warning restore CS8524

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
