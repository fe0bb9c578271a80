using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>What the journal last knew of a row.</summary>
    public enum AosJournalState
    {
        /// <summary>The request was about to start; no answer was recorded (the process ended, or is still waiting).</summary>
        Pending,

        /// <summary>The server confirmed the send.</summary>
        Sent,

        /// <summary>Nothing was sent (refused, or the server was not reached): a rerun sends it again.</summary>
        Failed,

        /// <summary>The request may have reached the server: a rerun does not send it again unless told to.</summary>
        Unknown,
    }

    /// <summary>What a rerun does with a row, from the journal's record of it.</summary>
    public enum AosJournalVerdict
    {
        /// <summary>Not sent before (or nothing was sent, or -RetryUnknown): send it.</summary>
        Send,

        /// <summary>Sent by an earlier run: skip it.</summary>
        AlreadySent,

        /// <summary>An earlier attempt may have reached the server: report, do not send.</summary>
        OutcomeUnknown,

        /// <summary>Another row of this run has the same key: report, do not send.</summary>
        DuplicateKey,
    }

    /// <summary>The latest record of one key.</summary>
    public sealed class AosJournalEntry
    {
        internal AosJournalEntry(string key, AosJournalState state, DateTimeOffset time, DateTimeOffset attempted, string? answer, string? errorId,
            bool keptCopy = false)
        {
            KeptCopy = keptCopy;
            Key = key;
            State = state;
            Time = time;
            Attempted = attempted;
            Answer = answer;
            ErrorId = errorId;
        }

        public string Key { get; }
        public AosJournalState State { get; }

        /// <summary>When this state was recorded (for Sent: when the server's confirmation came).</summary>
        public DateTimeOffset Time { get; }

        /// <summary>When the latest request for this key started (its Pending record).</summary>
        public DateTimeOffset Attempted { get; }

        /// <summary>The server's answer, for Sent.</summary>
        public string? Answer { get; }

        /// <summary>The error id, for Failed and Unknown.</summary>
        public string? ErrorId { get; }

        /// <summary>The latest request asked the server to keep a copy in the Outbox (its pending line says "copy":"outbox"), so the Outbox can settle it.</summary>
        public bool KeptCopy { get; }
    }

    /// <summary>
    /// The send journal: an append-only JSON Lines file with one record per state change of a row
    /// (pending before its request starts, then sent, failed or unknown), each on disk before the
    /// method that writes it lets its caller go on, so a rerun after a crash at any instant knows
    /// which rows went. The first line names the server, the account and how rows are keyed; a
    /// journal of another one, or a file that is not a journal, is refused and left as it is. The
    /// file is held open exclusively while in use, which is the lock. Only keys, states, times, the
    /// server's answer and error ids are written: never message content, a password or a session id.
    /// </summary>
    /// <remarks>
    /// Thread-safe. Lines are group-committed: the lines of rows that start or finish while a flush
    /// is under way wait for the next flush and share it, so rows in flight together cost one
    /// flush between them, while each caller still goes on only once its own line is on disk. A row
    /// sent with <c>shareSentFlush</c> leaves its sent line queued for the next flush (the next
    /// row's pending line, or <see cref="CommitAsync"/>), so rows sent one at a time cost one flush
    /// each; its result says when the line is on disk (<see cref="AosSubmitResult.AwaitsRecord"/>). In
    /// memory a key is kept as a fixed-size hash, so a row costs the same whatever its key's length.
    /// While open, the file keeps a region of zeros ahead of its lines, written and flushed once per
    /// <see cref="PreallocationBytes"/>, so that a flush writes the lines' bytes into space the file
    /// already has and no file size or allocation with them (on ext4, about a third less per fsync). Replay
    /// stops at the first NUL, so the zeros a crash leaves are no line; a clean close cuts them off,
    /// and opening to write cuts them before the first new line.
    /// </remarks>
    public sealed class AosSendJournal : IDisposable
    {
        /// <summary>The first field of the first line: what the file is.</summary>
        internal const string Format = "AosMail send journal";
        internal const string Version = "1";

        /// <summary>
        /// How rows are keyed when no property is named: by <see cref="AosJournalKey"/>, whose inputs
        /// changed once (every posted field by <see cref="AosMessageParts"/>). The name changes with them,
        /// so that a journal keyed the earlier way is refused (AosJournalMismatch) rather than read as if
        /// none of its rows had been sent.
        /// </summary>
        public const string KeyByContent = "content:2";

        /// <summary>What journals keyed by an earlier form of the content key name it.</summary>
        private const string KeyByEarlierContent = "content";

        /// <summary>How rows are keyed by the value of a property of the row (a name that cannot be taken for <see cref="KeyByContent"/>).</summary>
        public static string KeyByProperty(string name) => PropertyPrefix + name;

        private const string PropertyPrefix = "property:";

        /// <summary>A pending line's field saying where the request keeps a copy (only "outbox", and only when it does).</summary>
        private const string CopyField = "copy";
        private const string CopyInOutbox = "outbox";

        /// <summary>
        /// The largest file opened as a journal: about a million rows, far more than one batch, so a
        /// larger file is another file given by mistake or a journal that should be split.
        /// </summary>
        public const long MaxFileBytes = 256L * 1024 * 1024;

        /// <summary>
        /// How much room of zeros is written ahead of the lines at a time: a few thousand rows' lines,
        /// so the one flush that also carries the zeros comes rarely, and at most this much is left
        /// after the lines when a process dies.
        /// </summary>
        internal const int PreallocationBytes = 1024 * 1024;

        private static readonly byte[] Zeros = new byte[64 * 1024];

        /// <summary>Distinct answers and error ids kept as one string each (a run's answers are nearly all "OK").</summary>
        private const int MaxPooledTexts = 1024;

        private readonly object _gate = new object();
        private readonly object _fileGate = new object();
        private readonly FileStream? _file;
        private readonly Dictionary<KeyHash, Record> _records;
        private readonly Dictionary<string, string> _texts;
        private int _recordedKeys;
        private List<QueuedLine> _queue = new List<QueuedLine>();

        /// <summary>Keys whose pending line <see cref="BeginAsync"/> wrote and whose request has not been handed over yet.</summary>
        private readonly Dictionary<KeyHash, string> _begun = new Dictionary<KeyHash, string>();
        private bool _flushing;

        /// <summary>A queued line wants a flush (a line written to be on disk before its writer goes on, or <see cref="CommitAsync"/>): lines queued without one wait for it.</summary>
        private bool _flushWanted;
        private bool _disposed;
        private long _length;

        /// <summary>Where the zeros written ahead of the lines end (the file's length while open): at <see cref="_length"/> when none are.</summary>
        private long _allocated;

        /// <summary>Cleared once zeros could not be written ahead (a full disk): lines are then appended to the file's end.</summary>
        private bool _preallocate = true;

        private int _flushes;
        private int _sent;
        private int _skipped;
        private int _unknown;
        private int _failed;
        private AosException? _broken;

        private AosSendJournal(string path, FileStream? file, Replayed replayed, bool readOnly)
        {
            Path = path;
            _file = file;
            _records = replayed.Records;
            _texts = replayed.Texts;
            _recordedKeys = replayed.Records.Count;
            _length = file?.Length ?? 0;
            _allocated = _length;
            DroppedIncompleteLine = replayed.Dropped;
            IsReadOnly = readOnly;
        }

        public string Path { get; }

        /// <summary>Opened to read only (for -WhatIf): nothing is created or written.</summary>
        public bool IsReadOnly { get; }

        /// <summary>True when the last line was incomplete (a crash while it was written) and was dropped.</summary>
        public bool DroppedIncompleteLine { get; }

        /// <summary>How many keys the journal has records of (right after opening: those of earlier runs).</summary>
        public int RecordedKeys
        {
            get { lock (_gate) return _recordedKeys; }
        }

        /// <summary>Rows of this run the server confirmed.</summary>
        public int Sent => Volatile.Read(ref _sent);

        /// <summary>Rows of this run skipped because an earlier run sent them.</summary>
        public int Skipped => Volatile.Read(ref _skipped);

        /// <summary>Rows of this run whose outcome is unknown (now, or from an earlier attempt), not sent again.</summary>
        public int Unknown => Volatile.Read(ref _unknown);

        /// <summary>Rows of this run that failed with nothing sent.</summary>
        public int Failed => Volatile.Read(ref _failed);

        /// <summary>Set once a record could not be written: the journal no longer tells the truth, so no further row may go.</summary>
        public AosException? Broken
        {
            get { lock (_gate) return _broken; }
        }

        /// <summary>How many times lines were flushed to disk since opening (the header of a new journal not counted).</summary>
        internal int Flushes => Volatile.Read(ref _flushes);

        /// <summary>Lines waiting for a flush (for tests).</summary>
        internal int QueuedLines
        {
            get { lock (_gate) return _queue.Count; }
        }

        /// <summary>Puts written lines on disk (<see cref="AosFileSync.Data"/>); a test may wrap it to count, hold or fail flushes.</summary>
        internal Action<FileStream> FlushToDisk { get; set; } = AosFileSync.Data;

        /// <summary>
        /// Opens (or creates) the journal for an account on a server, rows keyed by
        /// <paramref name="keyBy"/> (<see cref="KeyByContent"/> or <see cref="KeyByProperty"/>), and replays it. Read-only opens an existing file without locking it
        /// for writing and creates nothing.
        /// </summary>
        public static AosSendJournal Open(string path, Uri server, string account, string keyBy, bool readOnly = false)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            if (server == null) throw new ArgumentNullException(nameof(server));
            if (account == null) throw new ArgumentNullException(nameof(account));
            if (keyBy == null) throw new ArgumentNullException(nameof(keyBy));

            // /dev/null would take every record and forget it; a FIFO or a device is no record at all.
            AosException NotRegular() => new AosException(AosErrorIds.InvalidPath, AosErrorCategory.InvalidArgument,
                "The journal '" + path + "' is not a regular file (a device, a FIFO or a socket), so it cannot keep a record. Give the path of a file.", path);

            bool existed = File.Exists(path);
            if (existed && !AosFileKind.IsRegularFile(path))
            {
                throw NotRegular();
            }

            FileStream? file = OpenFile(path, readOnly);
            bool created = file != null && !existed;
            try
            {
                // Where the file's kind cannot be asked (.NET Framework, Mono), a device or FIFO shows as a file that cannot seek.
                if (file != null && !file.CanSeek)
                {
                    throw NotRegular();
                }

                if (file != null && file.Length > MaxFileBytes && !EndsWithin(file, MaxFileBytes))
                {
                    throw new AosException(AosErrorIds.JournalTooLarge, AosErrorCategory.InvalidData,
                        "The file '" + path + "' (" + file.Length.ToString("N0", CultureInfo.InvariantCulture) + " bytes) is larger than a send journal may be ("
                        + (MaxFileBytes >> 20).ToString(CultureInfo.InvariantCulture) + " MB, about a million rows). It was not changed; "
                        + "if it is a journal, start the next batch with a new -JournalPath.", path);
                }

                var header = new Dictionary<string, string?>
                {
                    ["journal"] = Format,
                    ["version"] = Version,
                    ["server"] = server.AbsoluteUri,
                    ["account"] = account,
                    ["keyBy"] = keyBy,
                };
                var replayed = file == null ? new Replayed() : Replay(path, file, header);
                if (file != null && !readOnly)
                {
                    if (replayed.GoodLength < file.Length)
                    {
                        file.SetLength(replayed.GoodLength);
                    }

                    file.Seek(0, SeekOrigin.End);
                    if (replayed.GoodLength == 0)
                    {
                        header["created"] = Stamp(DateTimeOffset.UtcNow);
                        WriteHeader(file, AosJournalJson.Write(header), path);
                    }
                }

                if (readOnly)
                {
                    file?.Dispose();
                    file = null;
                }

                return new AosSendJournal(path, file, replayed, readOnly);
            }
            catch
            {
                Close(file);
                if (created) TryDelete(path);
                throw;
            }
        }

        /// <summary>The latest record of a key, or null when none.</summary>
        public AosJournalEntry? Find(string key)
        {
            var hash = KeyHash.Of(key);
            lock (_gate)
            {
                return _records.TryGetValue(hash, out var record) && record.Recorded ? record.ToEntry(key) : null;
            }
        }

        /// <summary>
        /// Decides what this run does with a row: the second row of a run with a key is a duplicate;
        /// a row sent before is skipped; one whose earlier attempt may have reached the server is
        /// reported unless <paramref name="retryUnknown"/>; anything else is sent. Counts skipped and
        /// unknown rows. <paramref name="earlier"/> is the key's latest record, if any.
        /// </summary>
        public AosJournalVerdict Admit(string key, bool retryUnknown, out AosJournalEntry? earlier)
        {
            if (string.IsNullOrEmpty(key)) throw new ArgumentException("A journal key must not be empty.", nameof(key));
            var hash = KeyHash.Of(key);
            lock (_gate)
            {
                _records.TryGetValue(hash, out var record);
                earlier = record.Recorded ? record.ToEntry(key) : null;
                if (record.SeenThisRun)
                {
                    return AosJournalVerdict.DuplicateKey;
                }

                record.SeenThisRun = true;
                _records[hash] = record;
                switch (earlier?.State)
                {
                    case AosJournalState.Sent:
                        Interlocked.Increment(ref _skipped);
                        return AosJournalVerdict.AlreadySent;
                    case AosJournalState.Pending:
                    case AosJournalState.Unknown:
                        if (retryUnknown) return AosJournalVerdict.Send;
                        Interlocked.Increment(ref _unknown);
                        return AosJournalVerdict.OutcomeUnknown;
                    default:
                        return AosJournalVerdict.Send;
                }
            }
        }

        /// <summary>
        /// Runs one send under the journal: records the key as pending (on disk before
        /// <paramref name="submit"/> is called), then as sent, failed or unknown (as
        /// <see cref="AosRowStates.After(Exception)"/> tells nothing sent from maybe sent), and passes
        /// the result or the exception on. A pending line that cannot be written is
        /// AosJournalWriteFailed, and the request is not made; a confirmed send whose sent line cannot
        /// be written is still a result, marked <see cref="AosSubmitResult.NotRecorded"/> (AosJournalSentNotRecorded).
        /// </summary>
        public Task<AosSubmitResult> SubmitAsync(string key, Func<Task<AosSubmitResult>> submit) => SubmitAsync(key, submit, shareSentFlush: false);

        /// <summary>
        /// Writes a row's pending line and returns once it is on disk, sharing its flush with every
        /// line queued before it (the sent lines of rows that ended meanwhile); the row's
        /// <see cref="SubmitAsync(string, Func{Task{AosSubmitResult}}, bool)"/> then starts its request without writing
        /// it again. Between the two the caller may write the reports those sent lines held back. A
        /// row begun but never submitted is recorded as failed (nothing sent) when the journal is disposed.
        /// <paramref name="keepsCopy"/>: the pending line says the request keeps a copy in the Outbox
        /// ("copy":"outbox"), so that a rerun may settle the row there.
        /// </summary>
        public async Task BeginAsync(string key, bool keepsCopy = false)
        {
            if (string.IsNullOrEmpty(key)) throw new ArgumentException("A journal key must not be empty.", nameof(key));
            if (IsReadOnly) throw new InvalidOperationException("The journal was opened to read only.");
            var hash = KeyHash.Of(key);
            await WriteRecord(hash, key, AosJournalState.Pending, answer: null, errorId: null, flush: true, keptCopy: keepsCopy).ConfigureAwait(false);
            lock (_gate) _begun[hash] = key;
        }

        /// <summary>
        /// As <see cref="SubmitAsync(string, Func{Task{AosSubmitResult}})"/> (the pending line skipped
        /// when <see cref="BeginAsync"/> wrote it). With <paramref name="shareSentFlush"/> (the row
        /// pipeline), the pending line is flushed on the thread pool, so the caller goes on to start
        /// the next row, whose line joins the next flush; and a confirmed row's result comes back as
        /// soon as the server answers, its sent line queued for the journal's next flush: whoever
        /// reports the row waits for <see cref="AosSubmitResult.RecordAsync"/> first (and
        /// <see cref="AosSubmitResult.NotRecorded"/> is set if that flush fails). <paramref name="keepsCopy"/>: as for <see cref="BeginAsync"/>.
        /// </summary>
        public async Task<AosSubmitResult> SubmitAsync(string key, Func<Task<AosSubmitResult>> submit, bool shareSentFlush, bool keepsCopy = false)
        {
            if (string.IsNullOrEmpty(key)) throw new ArgumentException("A journal key must not be empty.", nameof(key));
            if (submit == null) throw new ArgumentNullException(nameof(submit));
            if (IsReadOnly) throw new InvalidOperationException("The journal was opened to read only.");

            var hash = KeyHash.Of(key);
            bool begun;
            lock (_gate) begun = _begun.Remove(hash);
            if (!begun)
            {
                await WriteRecord(hash, key, AosJournalState.Pending, answer: null, errorId: null, flush: true, onThisThread: !shareSentFlush, keptCopy: keepsCopy).ConfigureAwait(false);
            }

            AosSubmitResult result;
            try
            {
                result = await submit().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                string errorId = (e as AosException)?.ErrorId ?? e.GetType().Name;
                if (AosRowStates.After(e) == AosRowState.NotSent)
                {
                    Interlocked.Increment(ref _failed);
                    await TryRecordAsync(hash, key, AosJournalState.Failed, answer: null, errorId).ConfigureAwait(false);
                }
                else
                {
                    Interlocked.Increment(ref _unknown);
                    await TryRecordAsync(hash, key, AosJournalState.Unknown, answer: null, errorId).ConfigureAwait(false);
                }

                throw;
            }

            Interlocked.Increment(ref _sent);
            if (shareSentFlush)
            {
                return result.WithRecord(WriteRecord(hash, key, AosJournalState.Sent, result.ServerAnswer, errorId: null, flush: false), NotRecorded, CommitAsync);
            }

            try
            {
                await RecordAsync(hash, key, AosJournalState.Sent, result.ServerAnswer, errorId: null).ConfigureAwait(false);
            }
            catch (AosException e)
            {
                // Sent all the same: the row's report says so, and that the journal missed it.
                return result.WithNotRecorded(NotRecorded(e));
            }

            return result;
        }

        /// <summary>
        /// Records what the Outbox showed of a row admitted as of unknown outcome
        /// (<see cref="AosJournalVerdict.OutcomeUnknown"/>): sent (its copy was found), or failed
        /// (no copy: nothing was sent). The row then counts as sent or failed instead of unknown;
        /// <paramref name="resending"/>: it is sent again at once (through SubmitAsync, which counts it).
        /// A sent line that cannot be written is AosJournalSentNotRecorded.
        /// </summary>
        public async Task RecordSettledAsync(string key, bool sent, string text, bool resending = false)
        {
            if (string.IsNullOrEmpty(key)) throw new ArgumentException("A journal key must not be empty.", nameof(key));
            if (IsReadOnly) throw new InvalidOperationException("The journal was opened to read only.");
            Interlocked.Decrement(ref _unknown);
            if (sent) Interlocked.Increment(ref _sent);
            else if (!resending) Interlocked.Increment(ref _failed);
            try
            {
                await RecordAsync(KeyHash.Of(key), key, sent ? AosJournalState.Sent : AosJournalState.Failed,
                    sent ? text : null, sent ? null : text).ConfigureAwait(false);
            }
            catch (AosException e) when (sent)
            {
                throw NotRecorded(e);
            }
        }

        /// <summary>
        /// Puts every queued line on disk: on this thread when no flush is under way, else by the
        /// flush under way, which takes whatever is queued. The task ends when the last line queued
        /// now is on disk (or its flush failed).
        /// </summary>
        public Task CommitAsync()
        {
            QueuedLine last;
            lock (_gate)
            {
                if (_queue.Count == 0) return Task.CompletedTask;
                last = _queue[_queue.Count - 1];
                _flushWanted = true;
                if (_flushing) return last.Done.Task;
                _flushing = true;
            }

            FlushQueued(last);
            return last.Done.Task;
        }

        /// <summary>Why a confirmed row has no sent line, and what a rerun does with it (its pending line is on disk).</summary>
        private AosException NotRecorded(AosException writeFailure) =>
            new AosException(AosErrorIds.JournalSentNotRecorded, AosErrorCategory.WriteError,
                "The server confirmed this message, but the journal '" + Path + "' could not record it ("
                + (writeFailure.InnerException?.Message ?? writeFailure.Message).TrimEnd('.') + "). "
                + "A rerun with this journal reports it as of unknown outcome and does not send it again (unless -RetryUnknown).",
                Path, writeFailure);

        /// <summary>Puts the queued lines on disk (a begun row that was never submitted recorded as failed), then closes the file.</summary>
        public void Dispose()
        {
            if (!IsReadOnly && _file != null) RecordLeftovers();
            lock (_fileGate)
            {
                _disposed = true;
                // A closed journal is its lines only; a cut that fails leaves zeros that a reader stops at.
                if (_file != null && _allocated > _length) TryCutBack(_file, _length);
                Close(_file);
            }
        }

        /// <summary>Error id of a row whose pending line was written but whose request never started (the command stopped first).</summary>
        internal const string NotStarted = "NotStarted";

        private void RecordLeftovers()
        {
            List<KeyValuePair<KeyHash, string>> begun;
            lock (_gate)
            {
                if (_disposed || _broken != null) return;
                begun = new List<KeyValuePair<KeyHash, string>>(_begun);
                _begun.Clear();
            }

            foreach (var row in begun)
            {
                Interlocked.Increment(ref _failed);
                _ = WriteRecord(row.Key, row.Value, AosJournalState.Failed, answer: null, NotStarted, flush: false);
            }

            try
            {
                CommitAsync().Wait();
            }
            catch (AggregateException)
            {
                // The journal is broken: what it could not write, a rerun reads as pending (reported, not resent).
            }
        }

        // ---- writing: group commit ----

        /// <summary>Writes one record and returns once it is on disk; a failure marks the journal broken and is AosJournalWriteFailed.</summary>
        private Task RecordAsync(KeyHash hash, string key, AosJournalState state, string? answer, string? errorId) =>
            WriteRecord(hash, key, state, answer, errorId, flush: true);

        /// <summary>
        /// Writes one record; the task ends once it is on disk (ended by the flush itself, so whoever
        /// checks it right after that flush sees it ended). Without <paramref name="flush"/> the
        /// line waits for the next flush that someone starts (<see cref="CommitAsync"/>, say).
        /// </summary>
        private Task WriteRecord(KeyHash hash, string key, AosJournalState state, string? answer, string? errorId, bool flush, bool onThisThread = true, bool keptCopy = false)
        {
            var now = DateTimeOffset.UtcNow;
            var fields = new Dictionary<string, string?>
            {
                ["key"] = key,
                ["state"] = StateName(state),
                ["time"] = Stamp(now),
                ["answer"] = answer,
                ["error"] = errorId,
            };
            if (keptCopy) fields[CopyField] = CopyInOutbox;
            string line = AosJournalJson.Write(fields);
            return AppendAsync(line, flush, onThisThread, () =>
            {
                lock (_gate)
                {
                    _records.TryGetValue(hash, out var record);
                    if (!record.Recorded) _recordedKeys++;
                    record.Attempted = state == AosJournalState.Pending || !record.Recorded ? now.UtcTicks : record.Attempted;
                    if (state == AosJournalState.Pending) record.KeptCopy = keptCopy;
                    record.Recorded = true;
                    record.State = state;
                    record.Time = now.UtcTicks;
                    record.Answer = Pooled(_texts, answer);
                    record.ErrorId = Pooled(_texts, errorId);
                    _records[hash] = record;
                }
            });
        }

        /// <summary>
        /// Records a row's failure or unknown outcome if the journal can: when it cannot, the row's
        /// own error is already on its way, and the rerun finds the row pending (reported, not resent).
        /// </summary>
        private async Task TryRecordAsync(KeyHash hash, string key, AosJournalState state, string? answer, string? errorId)
        {
            try
            {
                await RecordAsync(hash, key, state, answer, errorId).ConfigureAwait(false);
            }
            catch (AosException)
            {
            }
        }

        /// <summary>
        /// Queues a line and returns a task that ends once it is on disk. A caller that finds no
        /// flush under way flushes on its own thread what is queued (its own line with it) and
        /// goes on, so one row at a time costs no thread switch; lines queued meanwhile wait and
        /// go together in the next flush, which the thread pool takes over if the caller's own
        /// line is done. A line queued without <paramref name="flush"/> starts no flush of its own;
        /// without <paramref name="onThisThread"/> the flush it starts runs on the thread pool.
        /// </summary>
        private Task AppendAsync(string line, bool flush, bool onThisThread, Action onDisk)
        {
            var queued = new QueuedLine(line, onDisk);
            lock (_gate)
            {
                if (_broken != null) return Task.FromException(_broken);
                _queue.Add(queued);
                _flushWanted |= flush;
                if (_flushing || !flush) return queued.Done.Task;
                _flushing = true;
            }

            if (onThisThread) FlushQueued(queued);
            else ThreadPool.QueueUserWorkItem(_ => FlushQueued(null));
            return queued.Done.Task;
        }

        /// <summary>
        /// Flushes batch after batch while a queued line wants a flush, or (for a caller) until its
        /// own line is on disk. Lines that want none (a sent line) stay queued for the next flush
        /// someone wants, so a flusher still running does not flush them on their own.
        /// </summary>
        private void FlushQueued(QueuedLine? own)
        {
            while (true)
            {
                List<QueuedLine> batch;
                lock (_gate)
                {
                    if (_queue.Count == 0 || !_flushWanted)
                    {
                        _flushing = false;
                        return;
                    }

                    if (own != null && own.Done.Task.IsCompleted)
                    {
                        // The caller goes on; the lines queued during its flush get one of their own.
                        ThreadPool.QueueUserWorkItem(_ => FlushQueued(null));
                        return;
                    }

                    batch = _queue;
                    _queue = new List<QueuedLine>();
                    _flushWanted = false;
                }

                AosException? failure = WriteBatch(batch);
                if (failure != null)
                {
                    lock (_gate)
                    {
                        // Nothing more is written: what is queued now fails with the batch.
                        batch.AddRange(_queue);
                        _queue.Clear();
                        _flushing = false;
                        _flushWanted = false;
                    }
                }

                foreach (var queued in batch)
                {
                    if (failure == null) queued.OnDisk();
                }

                foreach (var queued in batch)
                {
                    if (failure == null) queued.Done.TrySetResult(true);
                    else queued.Done.TrySetException(failure);
                }

                if (failure != null) return;
            }
        }

        /// <summary>
        /// Writes the lines in one write and flushes them to disk. On a failure (a full disk, say) the
        /// file is cut back to its last flushed line, so no part of the batch is left to be read as a
        /// record, and the journal is broken.
        /// </summary>
        private AosException? WriteBatch(List<QueuedLine> batch)
        {
            var text = new StringBuilder();
            foreach (var queued in batch)
            {
                text.Append(queued.Line).Append('\n');
            }

            byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
            lock (_fileGate)
            {
                try
                {
                    if (_disposed) throw new ObjectDisposedException(Path, "The journal was closed.");
                    if (_length + bytes.Length > _allocated) Preallocate(_length + bytes.Length);
                    _file!.Write(bytes, 0, bytes.Length);
                    FlushToDisk(_file);
                    _length += bytes.Length;
                    Interlocked.Increment(ref _flushes);
                    return null;
                }
                catch (Exception e)
                {
                    // Whatever the failure, the writers waiting on this batch must hear of it (an
                    // exception escaping here would end the process and leave them waiting).
                    if (!_disposed) TryCutBack(_file!, _length);
                    var broken = new AosException(AosErrorIds.JournalWriteFailed, AosErrorCategory.WriteError,
                        "Could not write to the journal '" + Path + "': " + e.Message + " No further message is sent, since the journal could not record it.",
                        Path, e);
                    lock (_gate)
                    {
                        _broken = _broken ?? broken;
                        return _broken;
                    }
                }
            }
        }

        /// <summary>
        /// Writes zeros from the end of the room to <see cref="PreallocationBytes"/> past
        /// <paramref name="needed"/>, to go to disk with the batch's flush, and leaves the file's
        /// position at the end of the lines. Zeros that cannot be written (a full disk) are cut off
        /// again, and the lines are appended from then on as they would be without them.
        /// </summary>
        private void Preallocate(long needed)
        {
            var file = _file!;
            if (_preallocate)
            {
                long end = needed + PreallocationBytes;
                try
                {
                    file.Seek(_allocated, SeekOrigin.Begin);
                    for (long at = _allocated; at < end; at += Zeros.Length)
                    {
                        file.Write(Zeros, 0, (int)Math.Min(Zeros.Length, end - at));
                    }

                    _allocated = end;
                }
                catch (IOException)
                {
                    _preallocate = false;
                    TryCutBack(file, _allocated);
                }
            }

            file.Seek(_length, SeekOrigin.Begin);
        }

        /// <summary>
        /// Whether the file's lines end by <paramref name="limit"/>: a journal a process left open
        /// (a crash) is longer than its lines by its room of zeros, and its lines end at the first
        /// NUL, so a NUL at the limit says they do.
        /// </summary>
        private static bool EndsWithin(FileStream file, long limit)
        {
            file.Seek(limit, SeekOrigin.Begin);
            bool ends = file.ReadByte() == 0;
            file.Seek(0, SeekOrigin.Begin);
            return ends;
        }

        private static void TryCutBack(FileStream file, long length)
        {
            try
            {
                file.SetLength(length);
                file.Seek(length, SeekOrigin.Begin);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is NotSupportedException)
            {
                // The part written stays as an incomplete last line, which the next run drops.
            }
        }

        private static void WriteHeader(FileStream file, string line, string path)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
            try
            {
                file.Write(bytes, 0, bytes.Length);
                file.Flush(flushToDisk: true);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is NotSupportedException)
            {
                throw new AosException(AosErrorIds.JournalWriteFailed, AosErrorCategory.WriteError,
                    "The journal '" + path + "' could not be created: " + e.Message + " Nothing was sent.", path, e);
            }
        }

        /// <summary>Closes the file; a close that fails (the last bytes could not be written) changes nothing the journal promised.</summary>
        private static void Close(FileStream? file)
        {
            try
            {
                file?.Dispose();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
            }
        }

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
            }
        }

        private static string? Pooled(Dictionary<string, string> texts, string? text)
        {
            if (text == null) return null;
            if (texts.TryGetValue(text, out var pooled)) return pooled;
            if (texts.Count < MaxPooledTexts) texts[text] = text;
            return text;
        }

        // ---- opening and replaying ----

        private static FileStream? OpenFile(string path, bool readOnly)
        {
            try
            {
                if (readOnly)
                {
                    return File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite) : null;
                }

                // FileShare.None is the lock: Windows refuses a second open, and .NET on Linux and
                // macOS takes an exclusive flock(2), which ends with the process however it ends.
                // Unbuffered (a buffer of 1): each batch goes to the file in one write, and a write
                // that fails leaves nothing behind to be written again on close.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (IOException e) when (IsSharingViolation(e))
            {
                throw new AosException(AosErrorIds.JournalInUse, AosErrorCategory.ResourceUnavailable,
                    "The journal '" + path + "' is in use by another command (in this or another process). "
                    + "Two commands cannot share one journal: wait for the other to finish, or give another -JournalPath.", path, e);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
            {
                throw new AosException(AosErrorIds.InvalidPath, AosErrorCategory.InvalidArgument,
                    "The journal '" + path + "' cannot be opened: " + e.Message, path, e);
            }
        }

        /// <summary>
        /// Another handle holds the file: ERROR_SHARING_VIOLATION or ERROR_LOCK_VIOLATION on Windows,
        /// EWOULDBLOCK from flock on Linux (11) and macOS (35), which .NET reports as the HResult.
        /// </summary>
        private static bool IsSharingViolation(IOException e)
        {
            if (e is FileNotFoundException || e is DirectoryNotFoundException || e is PathTooLongException) return false;
            int code = e.HResult & 0xFFFF;
            return code == 32 || code == 33 || e.HResult == 11 || e.HResult == 35;
        }

        /// <summary>What replaying a file found.</summary>
        private sealed class Replayed
        {
            public Dictionary<KeyHash, Record> Records { get; } = new Dictionary<KeyHash, Record>();
            public Dictionary<string, string> Texts { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

            /// <summary>Where the valid lines end.</summary>
            public long GoodLength { get; set; }

            /// <summary>An incomplete last line was found (and is cut off when the journal is opened to write).</summary>
            public bool Dropped { get; set; }
        }

        /// <summary>
        /// Replays the records in order (the latest record of a key wins), reading the file a block
        /// at a time. An incomplete last line (no line break, or not a record) is what a crash during
        /// a write leaves, and is dropped; so is a first line that is an incomplete header of this
        /// very journal. Any other bad line, or a first line that is not this journal's header, is
        /// an error: the file is left as it is. The lines end at the first NUL: what follows it is the
        /// room of zeros an open journal keeps (left by a crash) and what was never flushed into it.
        /// </summary>
        private static Replayed Replay(string path, FileStream file, Dictionary<string, string?> expected)
        {
            var replayed = new Replayed();
            file.Seek(0, SeekOrigin.Begin);
            var reader = new LineReader(file);
            int number = 0;
            int badLine = 0;
            long badStart = 0;
            while (reader.Next())
            {
                number++;
                if (badLine != 0)
                {
                    throw NotAJournal(path, "line " + badLine.ToString(CultureInfo.InvariantCulture) + " is not a journal record");
                }

                if (!reader.Complete)
                {
                    // The header is on disk before any zeros are written, so a first line cut off by zeros is no header of this journal.
                    if (number == 1 && (reader.ReachedZeros || !IsTornHeader(reader, expected)))
                    {
                        throw NotAJournal(path, "its first line is not an AosMail journal header");
                    }

                    replayed.Dropped = reader.Length > 0;
                    break;
                }

                string text = reader.Text();
                if (number == 1)
                {
                    CheckHeader(path, text, expected);
                }
                else if (text.Trim().Length > 0 && !TryReadRecord(text, replayed))
                {
                    badLine = number;
                    badStart = reader.Start;
                    continue;
                }

                replayed.GoodLength = reader.Start + reader.Length;
            }

            if (number == 0 && reader.ReachedZeros)
            {
                // This journal writes its header before any zeros: a file that starts with one is something else.
                throw NotAJournal(path, "its first line is not an AosMail journal header");
            }

            if (badLine != 0)
            {
                // A whole line that is not a record, and nothing after it: a write cut short, then a crash.
                replayed.Dropped = true;
                replayed.GoodLength = badStart;
            }

            return replayed;
        }

        /// <summary>
        /// Whether the bytes of an unfinished first line are the start of the header this journal
        /// would write: all of it up to its creation time, then only what a time is made of.
        /// </summary>
        private static bool IsTornHeader(LineReader line, Dictionary<string, string?> expected)
        {
            string written = AosJournalJson.Write(expected);
            byte[] start = Encoding.UTF8.GetBytes(written.Substring(0, written.Length - 1) + ",\"created\":\"");
            const string TimeAndEnd = "0123456789-:.TZ\"}";
            for (int i = 0; i < line.Length; i++)
            {
                byte b = line.Buffer[line.Offset + i];
                if (i < start.Length ? b != start[i] : TimeAndEnd.IndexOf((char)b) < 0) return false;
            }

            return true;
        }

        private static void CheckHeader(string path, string line, Dictionary<string, string?> expected)
        {
            Dictionary<string, string?> header;
            try
            {
                header = AosJournalJson.Read(line);
            }
            catch (FormatException)
            {
                throw NotAJournal(path, "its first line is not an AosMail journal header");
            }

            if (!header.TryGetValue("journal", out var format) || format != Format)
            {
                throw NotAJournal(path, "its first line is not an AosMail journal header");
            }

            header.TryGetValue("version", out var version);
            if (version != Version)
            {
                throw new AosException(AosErrorIds.JournalMismatch, AosErrorCategory.InvalidArgument,
                    "The journal '" + path + "' has format version " + (version ?? "(none)") + "; this AosMail reads version " + Version
                    + ". Use the AosMail that wrote it, or give another -JournalPath.", path);
            }

            header.TryGetValue("server", out var server);
            header.TryGetValue("account", out var account);
            if (!string.Equals(server, expected["server"], StringComparison.OrdinalIgnoreCase)
                || !string.Equals(account, expected["account"], StringComparison.OrdinalIgnoreCase))
            {
                throw new AosException(AosErrorIds.JournalMismatch, AosErrorCategory.InvalidArgument,
                    "The journal '" + path + "' belongs to " + account + " at " + server + ", not to " + expected["account"] + " at " + expected["server"]
                    + ". A journal records the sends of one account on one server: give another -JournalPath.", path);
            }

            header.TryGetValue("keyBy", out var keyBy);
            if (!string.Equals(keyBy, expected["keyBy"], StringComparison.OrdinalIgnoreCase))
            {
                throw new AosException(AosErrorIds.JournalMismatch, AosErrorCategory.InvalidArgument,
                    "The journal '" + path + "' keys its rows by " + DescribeKeyBy(keyBy) + ", but this command keys them by " + DescribeKeyBy(expected["keyBy"])
                    + ". With other keys every row would look new and be sent again: use the -JournalKey of the run that wrote the journal, or give another -JournalPath.",
                    path);
            }
        }

        private static string DescribeKeyBy(string? keyBy) =>
            keyBy != null && keyBy.StartsWith(PropertyPrefix, StringComparison.Ordinal)
                ? "the property '" + keyBy.Substring(PropertyPrefix.Length) + "' (-JournalKey)"
                : keyBy == KeyByContent ? "their content (no -JournalKey)"
                : keyBy == KeyByEarlierContent ? "their content as an earlier AosMail hashed it (rerun it with that version)" : "'" + keyBy + "'";

        private static bool TryReadRecord(string line, Replayed replayed)
        {
            Dictionary<string, string?> fields;
            try
            {
                fields = AosJournalJson.Read(line);
            }
            catch (FormatException)
            {
                return false;
            }

            if (!fields.TryGetValue("key", out var key) || string.IsNullOrEmpty(key)
                || !fields.TryGetValue("state", out var stateName) || !TryParseState(stateName, out var state)
                || !fields.TryGetValue("time", out var timeText)
                || !DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                return false;
            }

            fields.TryGetValue("answer", out var answer);
            fields.TryGetValue("error", out var errorId);
            var hash = KeyHash.Of(key!);
            replayed.Records.TryGetValue(hash, out var record);
            record.Attempted = state == AosJournalState.Pending || !record.Recorded ? time.UtcTicks : record.Attempted;
            if (state == AosJournalState.Pending) record.KeptCopy = fields.TryGetValue(CopyField, out var copy) && copy == CopyInOutbox;
            record.Recorded = true;
            record.State = state;
            record.Time = time.UtcTicks;
            record.Answer = Pooled(replayed.Texts, answer);
            record.ErrorId = Pooled(replayed.Texts, errorId);
            replayed.Records[hash] = record;
            return true;
        }

        private static AosException NotAJournal(string path, string why) =>
            new AosException(AosErrorIds.JournalCorrupt, AosErrorCategory.InvalidData,
                "The file '" + path + "' cannot be used as a send journal: " + why + ". It was not changed; give the path of a journal, or of a file that does not exist yet.",
                path);

        private static string StateName(AosJournalState state) => state.ToString().ToLowerInvariant();

        private static bool TryParseState(string? name, out AosJournalState state)
        {
            foreach (AosJournalState candidate in Enum.GetValues(typeof(AosJournalState)))
            {
                if (StateName(candidate) == name)
                {
                    state = candidate;
                    return true;
                }
            }

            state = default;
            return false;
        }

        private static string Stamp(DateTimeOffset time) =>
            time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

        /// <summary>A line waiting for the next flush, and the task its writer waits on.</summary>
        private sealed class QueuedLine
        {
            public QueuedLine(string line, Action onDisk)
            {
                Line = line;
                OnDisk = onDisk;
            }

            public string Line { get; }

            /// <summary>Notes the record in memory, once its line is on disk (before its writer hears of it).</summary>
            public Action OnDisk { get; }

            // Continuations run on the pool, never inside the flush that completes them.
            public TaskCompletionSource<bool> Done { get; } = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        /// <summary>What the journal knows of one key, in a fixed size whatever the key.</summary>
        private struct Record
        {
            /// <summary>The journal has a line of this key (else the key was only admitted by this run).</summary>
            public bool Recorded;

            /// <summary>A row of this run had this key.</summary>
            public bool SeenThisRun;

            public AosJournalState State;

            /// <summary>UTC ticks of the latest line, and of the latest pending line.</summary>
            public long Time;
            public long Attempted;
            public string? Answer;
            public string? ErrorId;

            /// <summary>The latest pending line said the request keeps a copy in the Outbox.</summary>
            public bool KeptCopy;

            public AosJournalEntry ToEntry(string key) =>
                new AosJournalEntry(key, State, new DateTimeOffset(Time, TimeSpan.Zero), new DateTimeOffset(Attempted, TimeSpan.Zero), Answer, ErrorId, KeptCopy);
        }

        /// <summary>
        /// A key as its SHA-256 over its UTF-16 code units: any string, lone surrogates and NUL
        /// included, maps to its own 32 bytes (a text encoding would replace what it cannot encode).
        /// </summary>
        private readonly struct KeyHash : IEquatable<KeyHash>
        {
            [ThreadStatic]
            private static SHA256? t_sha;

            private readonly ulong _a;
            private readonly ulong _b;
            private readonly ulong _c;
            private readonly ulong _d;

            private KeyHash(byte[] hash)
            {
                _a = BitConverter.ToUInt64(hash, 0);
                _b = BitConverter.ToUInt64(hash, 8);
                _c = BitConverter.ToUInt64(hash, 16);
                _d = BitConverter.ToUInt64(hash, 24);
            }

            public static KeyHash Of(string key)
            {
                var units = new byte[key.Length * 2];
                for (int i = 0; i < key.Length; i++)
                {
                    units[2 * i] = (byte)key[i];
                    units[2 * i + 1] = (byte)(key[i] >> 8);
                }

                var sha = t_sha ?? (t_sha = SHA256.Create());
                return new KeyHash(sha.ComputeHash(units));
            }

            public bool Equals(KeyHash other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

            public override bool Equals(object? obj) => obj is KeyHash other && Equals(other);

            public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);
        }

        /// <summary>
        /// The lines of a file, read a block at a time; a line is its bytes without the line break.
        /// The file's data ends at its first NUL, where the zeros kept ahead of the lines begin (a
        /// record has none: JSON writes a NUL in a value as <c>\u0000</c>).
        /// </summary>
        private sealed class LineReader
        {
            private readonly Stream _stream;
            private byte[] _buffer = new byte[64 * 1024];
            private int _filled;
            private int _next;
            private long _bufferStart;
            private bool _end;

            public LineReader(Stream stream) => _stream = stream;

            /// <summary>The data ended at a NUL (the zeros ahead of the lines), not at the file's end.</summary>
            public bool ReachedZeros { get; private set; }

            public byte[] Buffer => _buffer;

            /// <summary>Where the current line starts in <see cref="Buffer"/>, and in the file.</summary>
            public int Offset { get; private set; }
            public long Start => _bufferStart + Offset;

            /// <summary>The line's length with its line break, if it has one.</summary>
            public int Length { get; private set; }

            /// <summary>The line ends with a line break (else it is the file's unfinished last line).</summary>
            public bool Complete { get; private set; }

            public bool Next()
            {
                int searchFrom = _next;
                while (true)
                {
                    int end = Array.IndexOf(_buffer, (byte)'\n', searchFrom, _filled - searchFrom);
                    if (end >= 0)
                    {
                        SetLine(_next, end + 1 - _next, complete: true);
                        return true;
                    }

                    if (_end)
                    {
                        if (_next == _filled) return false;
                        SetLine(_next, _filled - _next, complete: false);
                        return true;
                    }

                    searchFrom = _filled - _next;
                    Refill();
                    searchFrom += _next;
                }
            }

            /// <summary>The line's text without its line break, a UTF-8 byte order mark at the file's start skipped.</summary>
            public string Text()
            {
                int offset = Offset;
                int count = Length;
                if (Start == 0 && count >= 3 && _buffer[offset] == 0xEF && _buffer[offset + 1] == 0xBB && _buffer[offset + 2] == 0xBF)
                {
                    offset += 3;
                    count -= 3;
                }

                return Encoding.UTF8.GetString(_buffer, offset, count).TrimEnd('\n', '\r');
            }

            private void SetLine(int offset, int length, bool complete)
            {
                Offset = offset;
                Length = length;
                Complete = complete;
                _next = offset + length;
            }

            /// <summary>Moves the unread part to the front (growing the buffer for a long line) and reads more.</summary>
            private void Refill()
            {
                int kept = _filled - _next;
                if (kept == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }
                else if (_next > 0)
                {
                    System.Buffer.BlockCopy(_buffer, _next, _buffer, 0, kept);
                }

                _bufferStart += _next;
                _filled = kept;
                _next = 0;
                Offset = 0;
                int read = _stream.Read(_buffer, _filled, _buffer.Length - _filled);
                int zero = read == 0 ? -1 : Array.IndexOf(_buffer, (byte)0, _filled, read);
                if (zero >= 0)
                {
                    ReachedZeros = true;
                    _end = true;
                    _filled = zero;
                }
                else if (read == 0) _end = true;
                else _filled += read;
            }
        }
    }

}
