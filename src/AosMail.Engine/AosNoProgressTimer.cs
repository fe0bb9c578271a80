using System;
using System.Diagnostics;
using System.Threading;

namespace AosMail.Engine
{
    /// <summary>Where one request was when its timer ran out (docs/aos-protocol.md B22).</summary>
    internal enum AosRequestStage
    {
        /// <summary>The handler has not asked for the body yet: connecting (or the TLS handshake).</summary>
        Connecting,

        /// <summary>Part of the body was written; the server cannot have acted on it.</summary>
        Uploading,

        /// <summary>The whole body was written: waiting for the answer and reading it.</summary>
        Answering,

        /// <summary>A streamed answer (rdmail) is being read: each piece that arrives is progress.</summary>
        Streaming,
    }

    /// <summary>
    /// B22: a request times out when nothing moves for the timeout, not when it takes longer than
    /// the timeout. The owner calls <see cref="Progress"/> whenever bytes move (each piece of the
    /// body written, each piece of a streamed answer read); the token is cancelled once a whole
    /// timeout passes without a call. One timer per request, rescheduled only when it fires, so
    /// that a call per 16 KB written costs a timestamp, not a timer change.
    /// </summary>
    /// <remarks>
    /// This works with any handler (HttpClientHandler on .NET Framework has no connect timeout of
    /// its own): connecting is the stretch before the body is first asked for.
    /// </remarks>
    internal sealed class AosNoProgressTimer : IDisposable
    {
        private readonly CancellationTokenSource _expired = new CancellationTokenSource();
        private readonly long _timeoutTicks;
        private readonly Timer? _timer;
        private long _deadline;
        private int _stage;
        private int _disposed;

        /// <param name="timeout">Zero or infinite: never expires.</param>
        /// <param name="start">False: the clock starts at <see cref="Start"/>, once the local work before the wire (measuring the body) is done.</param>
        public AosNoProgressTimer(TimeSpan timeout, bool start = true)
        {
            Timeout = timeout;
            if (timeout > TimeSpan.Zero && timeout != System.Threading.Timeout.InfiniteTimeSpan)
            {
                _timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
                _timer = new Timer(OnTimer, null, System.Threading.Timeout.InfiniteTimeSpan, System.Threading.Timeout.InfiniteTimeSpan);
                if (start)
                {
                    Start();
                }
            }
        }

        /// <summary>Starts the clock (a timer made with start: false); the timeout runs from now.</summary>
        public void Start()
        {
            if (_timer != null)
            {
                Volatile.Write(ref _deadline, Stopwatch.GetTimestamp() + _timeoutTicks);
                _timer.Change(Timeout, System.Threading.Timeout.InfiniteTimeSpan);
            }
        }

        public TimeSpan Timeout { get; }

        /// <summary>Cancelled when the timeout passed without progress.</summary>
        public CancellationToken Token => _expired.Token;

        public bool Expired => _expired.IsCancellationRequested;

        public AosRequestStage Stage => (AosRequestStage)Volatile.Read(ref _stage);

        /// <summary>Bytes moved: the timeout starts again from now.</summary>
        public void Progress()
        {
            if (_timer != null)
            {
                Volatile.Write(ref _deadline, Stopwatch.GetTimestamp() + _timeoutTicks);
            }
        }

        /// <summary>Moves to a later stage; the timeout starts again from now.</summary>
        public void Enter(AosRequestStage stage)
        {
            Volatile.Write(ref _stage, (int)stage);
            Progress();
        }

        private void OnTimer(object? state)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            long remaining = Volatile.Read(ref _deadline) - Stopwatch.GetTimestamp();
            try
            {
                if (remaining <= 0)
                {
                    _expired.Cancel();
                }
                else
                {
                    _timer!.Change(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency) + TimeSpan.FromMilliseconds(1), System.Threading.Timeout.InfiniteTimeSpan);
                }
            }
            catch (ObjectDisposedException)
            {
                // Disposed while firing: the request is over.
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _timer?.Dispose();
                _expired.Dispose();
            }
        }
    }
}
