using System;
using System.Threading;

namespace AosMail.Engine
{
    /// <summary>
    /// One attempt of one request and how far it got (docs/aos-protocol.md B15, B22): connecting
    /// until the handler first asks for the body, uploading until the whole body was handed to the
    /// connection, then answering. What a fault or an answer means is read from this stage, never
    /// from the exception's type alone: before the body is complete the server cannot have acted.
    /// Owns the request's no-progress timer, its token and its progress reports.
    /// </summary>
    internal sealed class AosAttempt : IDisposable
    {
        private readonly CancellationTokenSource _linked;
        private readonly AosProgressReporter? _reporter;
        private long _size = -1;
        private long _written;

        public AosAttempt(TimeSpan timeout, IAosProgress? progress, string command, CancellationToken cancellationToken)
        {
            // Its clock starts with Start: measuring a large body is local work, however long a
            // loaded machine takes over it, and must not count as a connection that made no progress.
            Timer = new AosNoProgressTimer(timeout, start: false);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Timer.Token);
            _reporter = AosProgressReporter.Create(progress, command);
            Sent = OnSent;
        }

        public AosNoProgressTimer Timer { get; }

        /// <summary>Cancelled by the caller or when the timer runs out.</summary>
        public CancellationToken Token => _linked.Token;

        public AosRequestStage Stage => Timer.Stage;

        /// <summary>The body's length (Content-Length), once known.</summary>
        public long Size => Volatile.Read(ref _size);

        /// <summary>Bytes of the body handed to the connection so far.</summary>
        public long Written => Volatile.Read(ref _written);

        /// <summary>True once the whole body was handed to the connection: from then on the server may act.</summary>
        public bool BodyComplete => Stage >= AosRequestStage.Answering;

        /// <summary>True once the answer's head arrived.</summary>
        public bool AnswerStarted { get; private set; }

        /// <summary>
        /// For the form content: called with 0 when the handler first asks for the body (connected),
        /// then with the running total after each write to the connection; the last one completes the body.
        /// </summary>
        public Action<long> Sent { get; }

        /// <summary>The body is measured: the request goes to the wire now, and its timer starts.</summary>
        public void Start(long size)
        {
            Volatile.Write(ref _size, size);
            _reporter?.Start(size);
            Timer.Start();
        }

        /// <summary>The answer's head arrived; returns whether the body was complete by then.</summary>
        public bool AnswerArrived()
        {
            AnswerStarted = true;
            return BodyComplete;
        }

        /// <summary>The closing progress report.</summary>
        public void Finish() => _reporter?.Finish();

        private void OnSent(long sent)
        {
            Volatile.Write(ref _written, sent);
            Timer.Enter(sent >= Size ? AosRequestStage.Answering : AosRequestStage.Uploading);
            _reporter?.Sent(sent);
        }

        public void Dispose()
        {
            _reporter?.Dispose();
            _linked.Dispose();
            Timer.Dispose();
        }
    }
}
