using System;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>What the server said to one send or draft save.</summary>
    public sealed class AosSubmitResult
    {
        public AosSubmitResult(AosSubmitKind kind, DateTimeOffset submitted, TimeSpan elapsed, string serverAnswer, long requestBytes, bool sessionRenewed)
        {
            Kind = kind;
            Submitted = submitted;
            Elapsed = elapsed;
            ServerAnswer = serverAnswer;
            RequestBytes = requestBytes;
            SessionRenewed = sessionRenewed;
        }

        public AosSubmitKind Kind { get; }
        public DateTimeOffset Submitted { get; }
        public TimeSpan Elapsed { get; }

        /// <summary>The trimmed answer body ("OK").</summary>
        public string ServerAnswer { get; }

        /// <summary>Size of the form body that was posted.</summary>
        public long RequestBytes { get; }

        /// <summary>True when the session had expired and was renewed once before this submission (docs/aos-protocol.md B14).</summary>
        public bool SessionRenewed { get; }

        /// <summary>
        /// Set when the server confirmed the submission but the send journal could not record it
        /// (AosJournalWriteFailed): the row was sent, and its report says the journal missed it.
        /// </summary>
        public AosException? NotRecorded
        {
            get
            {
                if (_notRecorded is null && _record is { IsFaulted: true } record)
                {
                    var failure = (AosException)record.Exception!.InnerException!;
                    Interlocked.CompareExchange(ref _notRecorded, _whyNotRecorded!(failure), null);
                }

                return _notRecorded;
            }
        }

        /// <summary>
        /// True while the journal's sent line of this result waits for a flush: the row's report
        /// must wait for <see cref="RecordAsync"/>.
        /// </summary>
        public bool AwaitsRecord => _record is { IsCompleted: false };

        private AosException? _notRecorded;
        private Task? _record;
        private Func<AosException, AosException>? _whyNotRecorded;
        private Func<Task>? _commit;

        /// <summary>Puts the journal's sent line of this result on disk now, if it is not yet; the task ends when it is (or could not be: <see cref="NotRecorded"/>).</summary>
        public Task RecordAsync()
        {
            if (_record is null || _record.IsCompleted) return Task.CompletedTask;
            _commit!();
            return _record.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        /// <summary>
        /// Set when no answer confirmed the send but its copy was found in the Outbox (settled,
        /// docs/aos-protocol.md B25): the id of that copy.
        /// </summary>
        public string? SettledAs { get; private set; }

        /// <summary>A send whose answer was lost, settled as sent by its copy in the Outbox.</summary>
        internal static AosSubmitResult Settled(DateTimeOffset attempted, TimeSpan elapsed, string outboxId) =>
            new AosSubmitResult(AosSubmitKind.Send, attempted, elapsed, "settled: found in the Outbox as " + outboxId, 0, false) { SettledAs = outboxId };

        /// <summary>This result, marked as not recorded by the journal.</summary>
        internal AosSubmitResult WithNotRecorded(AosException problem)
        {
            var copy = (AosSubmitResult)MemberwiseClone();
            copy._notRecorded = problem;
            return copy;
        }

        /// <summary>This result, its journal's sent line queued: <paramref name="record"/> ends once it is on disk (or fails with why not, which <paramref name="whyNotRecorded"/> words for the row); <paramref name="commit"/> flushes it now.</summary>
        internal AosSubmitResult WithRecord(Task record, Func<AosException, AosException> whyNotRecorded, Func<Task> commit)
        {
            var copy = (AosSubmitResult)MemberwiseClone();
            copy._record = record;
            copy._whyNotRecorded = whyNotRecorded;
            copy._commit = commit;
            return copy;
        }
    }
}
