using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>One pipeline row on its way through <see cref="AosRowPipeline{TItem}"/>.</summary>
    public sealed class AosRow<TItem>
    {
        internal AosRow(long number, TItem item, AosRowState state, Task<AosSubmitResult>? work)
        {
            Number = number;
            Item = item;
            State = state;
            Work = work;
        }

        /// <summary>Its place in the input, from 1.</summary>
        public long Number { get; }

        /// <summary>What the caller keeps of the row (the record, its message, its refusal...).</summary>
        public TItem Item { get; }

        public AosRowState State { get; internal set; }

        /// <summary>Its request, for a row that was started.</summary>
        public Task<AosSubmitResult>? Work { get; }

        /// <summary>What the server confirmed (Sent, SentNotRecorded), else null.</summary>
        public AosSubmitResult? Result => State.WasSent() ? Work!.Result : null;

        /// <summary>Why its request ended without a confirmation (NotSent, MaybeSent), else null.</summary>
        public Exception? Error =>
            State == AosRowState.NotSent || State == AosRowState.MaybeSent
                ? Work!.IsCanceled ? new OperationCanceledException() : Work.Exception!.InnerException
                : null;
    }

    /// <summary>
    /// The rows of one Send-AosMessage or Save-AosDraft call, from admission to their report: up to
    /// <see cref="InFlight"/> requests at once, the next started as soon as any ends, and each row
    /// handed to the writer in input order once it has ended, however its request went. Finished
    /// rows wait for their turn in a buffer of at most <see cref="BufferLimit"/> rows; when it is full
    /// (one row much slower than the rest), no new row starts until the oldest has ended. With
    /// <see cref="StopOnError"/> (an effective -ErrorAction Stop), no row starts once an earlier row's
    /// error is known: the rows before it are waited for and written, then its error, which ends the
    /// command. No PowerShell types: the caller waits through <c>wait</c> (pumping its log meanwhile)
    /// and writes through <c>write</c>, both on the thread that calls this object (not thread-safe).
    /// </summary>
    public sealed class AosRowPipeline<TItem>
    {
        /// <summary>How many rows the buffer holds per request in flight.</summary>
        public const int BufferPerRequest = 8;

        private readonly Queue<AosRow<TItem>> _held = new Queue<AosRow<TItem>>();
        private readonly List<AosRow<TItem>> _sending = new List<AosRow<TItem>>();
        private readonly Dictionary<AosRowState, List<(long From, long To)>> _written = new Dictionary<AosRowState, List<(long, long)>>();
        private readonly Action<Task> _wait;
        private readonly Action<AosRow<TItem>> _write;
        private AosRow<TItem>? _interrupted;
        private long _count;

        /// <param name="inFlight">Requests in flight at once (-ThrottleLimit); between two rows at most <paramref name="inFlight"/> - 1, so 1 ends each row's request before the next row is read.</param>
        /// <param name="stopOnError">An effective -ErrorAction Stop: no row starts once an earlier row's error is known.</param>
        /// <param name="wait">Blocks until the task has ended (the caller pumps its log lines meanwhile); must not throw the task's exception.</param>
        /// <param name="write">Writes one row's report (result, error, warnings); called in input order, once per row.</param>
        public AosRowPipeline(int inFlight, bool stopOnError, Action<Task> wait, Action<AosRow<TItem>> write)
        {
            if (inFlight < 1) throw new ArgumentOutOfRangeException(nameof(inFlight));
            InFlight = inFlight;
            BufferLimit = BufferPerRequest * inFlight;
            StopOnError = stopOnError;
            _wait = wait ?? throw new ArgumentNullException(nameof(wait));
            _write = write ?? throw new ArgumentNullException(nameof(write));
        }

        public int InFlight { get; }

        /// <summary>How many rows (in flight, or ended and waiting for their turn) are held at most.</summary>
        public int BufferLimit { get; }

        public bool StopOnError { get; }

        /// <summary>Rows held: in flight, or ended and not yet written.</summary>
        public int Held => _held.Count;

        /// <summary>Rows whose request is in flight.</summary>
        public int Sending => _sending.Count;

        /// <summary>A row refused before any request; written in its place.</summary>
        public AosRow<TItem> Refuse(TItem item) => Add(item, AosRowState.RefusedBeforeWire, null);

        /// <summary>A row that needs no request and is no error (-WhatIf, an earlier run's send); written in its place.</summary>
        public AosRow<TItem> Skip(TItem item) => Add(item, AosRowState.Skipped, null);

        /// <summary>
        /// Starts a row's request (on this thread, in input order: the journal's pending line is
        /// written inside <paramref name="send"/>), after waiting for a place and, under
        /// <see cref="StopOnError"/>, writing any earlier row's error first; returns once at most
        /// <see cref="InFlight"/> - 1 requests are in flight.
        /// </summary>
        public AosRow<TItem> Start(TItem item, Func<Task<AosSubmitResult>> send) => Start(item, null, send);

        /// <summary>
        /// As <see cref="Start(TItem, Func{Task{AosSubmitResult}})"/>, with a step before the request
        /// when one request goes at a time: <paramref name="begin"/> (the journal's pending line, whose
        /// flush also puts on disk the sent line of the row before) is waited for, then the row it let
        /// go is written, then the request starts; so each row's report is written before the next
        /// request starts. A row whose <paramref name="begin"/> fails ends with its error, unsent.
        /// With more in flight, <paramref name="begin"/> is not called (<paramref name="send"/> takes its place).
        /// </summary>
        public AosRow<TItem> Start(TItem item, Func<Task>? begin, Func<Task<AosSubmitResult>> send)
        {
            if (send == null) throw new ArgumentNullException(nameof(send));
            MakeRoom();
            while (_sending.Count >= InFlight)
            {
                WaitForAny();
            }

            Task<AosSubmitResult> work;
            Task? begun = null;
            // With more in flight, waiting here would give every row's start a flush of its own, where
            // rows started while one flush runs share the next: then send does the step itself.
            if (begin is not null && InFlight == 1)
            {
                try
                {
                    begun = begin();
                }
                catch (Exception e)
                {
                    begun = Task.FromException(e);
                }

                _wait(begun);
            }

            if (begun is not null && begun.Status != TaskStatus.RanToCompletion)
            {
                work = Task.FromException<AosSubmitResult>(begun.Exception?.InnerException ?? new OperationCanceledException());
            }
            else
            {
                // A writer that stops the command here (Select-Object -First) leaves this row unstarted: the journal records it as such.
                if (begun is not null) WriteReady();
                try
                {
                    work = send();
                }
                catch (Exception e)
                {
                    work = Task.FromException<AosSubmitResult>(e);
                }
            }

            var row = new AosRow<TItem>(++_count, item, AosRowState.Sending, work);
            _held.Enqueue(row);
            _sending.Add(row);
            while (_sending.Count > InFlight - 1)
            {
                WaitForAny();
            }

            WriteReady();
            return row;
        }

        /// <summary>Waits for every row held and writes each in input order.</summary>
        public void Finish()
        {
            WriteReady();
            while (_held.Count > 0)
            {
                WaitForHead();
            }
        }

        /// <summary>
        /// The command stops with rows unwritten: waits up to <paramref name="settle"/> for their
        /// requests (cancelled by the caller first) to end, and hands back every row not written, in
        /// input order, with its state then; <paramref name="includeInterrupted"/> adds the row whose
        /// writing was cut off (by Ctrl+C, say) in front. Nothing is held afterwards.
        /// </summary>
        public List<AosRow<TItem>> TakeUnfinished(bool includeInterrupted, TimeSpan settle)
        {
            var rows = new List<AosRow<TItem>>();
            if (includeInterrupted && _interrupted is not null) rows.Add(_interrupted);
            rows.AddRange(_held);
            _held.Clear();
            _interrupted = null;
            Task[] works = rows.Where(r => r.Work is not null && !r.Work.IsCompleted).Select(r => (Task)r.Work!).ToArray();
            try
            {
                Task.WaitAll(works, settle);
            }
            catch (AggregateException)
            {
            }

            Settle();
            _sending.Clear();
            return rows;
        }

        /// <summary>The rows written in the given states, as ranges ("1-12, 14"), or "" when none.</summary>
        public string WrittenRows(params AosRowState[] states)
        {
            var ranges = states.SelectMany(s => _written.TryGetValue(s, out var list) ? list : Enumerable.Empty<(long From, long To)>())
                .OrderBy(r => r.From).ToList();
            var merged = new List<(long From, long To)>();
            foreach (var range in ranges)
            {
                if (merged.Count > 0 && merged[merged.Count - 1].To + 1 == range.From)
                {
                    merged[merged.Count - 1] = (merged[merged.Count - 1].From, range.To);
                }
                else
                {
                    merged.Add(range);
                }
            }

            return string.Join(", ", merged.Select(r => r.From == r.To
                ? r.From.ToString(CultureInfo.InvariantCulture)
                : r.From.ToString(CultureInfo.InvariantCulture) + "-" + r.To.ToString(CultureInfo.InvariantCulture)));
        }

        /// <summary>How many rows have come in (the number of the last one).</summary>
        public long Count => _count;

        private AosRow<TItem> Add(TItem item, AosRowState state, Task<AosSubmitResult>? work)
        {
            MakeRoom();
            var row = new AosRow<TItem>(++_count, item, state, work);
            _held.Enqueue(row);
            WriteReady();
            return row;
        }

        /// <summary>Before a row comes in: a place in the buffer, and under StopOnError no earlier error left unwritten.</summary>
        private void MakeRoom()
        {
            WriteReady();
            while (_held.Count >= BufferLimit || (StopOnError && _held.Any(r => r.State.IsError())))
            {
                WaitForHead();
            }
        }

        private void WaitForAny()
        {
            _wait(_sending.Count == 1 ? _sending[0].Work! : Task.WhenAny(_sending.Select(r => r.Work!)));
            WriteReady();
        }

        private void WaitForHead()
        {
            var head = _held.Peek();
            if (head.Work is not null && !head.Work.IsCompleted) _wait(head.Work);
            else if (AwaitsRecord(head)) _wait(head.Work!.Result.RecordAsync());
            WriteReady();
        }

        /// <summary>A confirmed row whose journal line is not on disk yet: its report waits (the next row's flush, or <see cref="WaitForHead"/>'s).</summary>
        private static bool AwaitsRecord(AosRow<TItem> row) =>
            row.Work is { Status: TaskStatus.RanToCompletion } work && work.Result.AwaitsRecord;

        /// <summary>The one place a started row's state changes: each request that has ended leaves the in-flight set.</summary>
        private void Settle()
        {
            for (int i = _sending.Count - 1; i >= 0; i--)
            {
                var row = _sending[i];
                if (!row.Work!.IsCompleted) continue;
                row.State = AosRowStates.After(row.Work);
                _sending.RemoveAt(i);
            }
        }

        /// <summary>Writes the rows at the head that have ended, in input order.</summary>
        private void WriteReady()
        {
            Settle();
            while (_held.Count > 0 && _held.Peek().State != AosRowState.Sending && !AwaitsRecord(_held.Peek()))
            {
                var row = _held.Dequeue();
                // Settle's state, with the journal's verdict now in: a confirmed row whose sent line's flush failed is SentNotRecorded.
                if (row.Work is not null) row.State = AosRowStates.After(row.Work);
                // Every row passes through the wait, so the log lines its work queued come out before its report.
                _wait(row.Work ?? Task.CompletedTask);
                Record(row);
                try
                {
                    _write(row);
                }
                catch
                {
                    _interrupted = row;
                    throw;
                }
            }
        }

        private void Record(AosRow<TItem> row)
        {
            if (!_written.TryGetValue(row.State, out var ranges))
            {
                _written[row.State] = ranges = new List<(long, long)>();
            }

            if (ranges.Count > 0 && ranges[ranges.Count - 1].To == row.Number - 1)
            {
                ranges[ranges.Count - 1] = (ranges[ranges.Count - 1].From, row.Number);
            }
            else
            {
                ranges.Add((row.Number, row.Number));
            }
        }
    }
}
