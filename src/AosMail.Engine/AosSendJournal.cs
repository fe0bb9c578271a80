using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
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
        internal AosJournalEntry(string key, AosJournalState state, DateTimeOffset time, DateTimeOffset attempted, string? answer, string? errorId)
        {
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
    }

    /// <summary>
    /// The send journal: an append-only JSON Lines file with one record per state change of a row
    /// (pending before its request starts, then sent, failed or unknown), each flushed to disk
    /// before the method that writes it returns, so a rerun after a crash at any instant knows which
    /// rows went. The first line names the server, the account and how rows are keyed; a journal of
    /// another one is refused. The file is held open exclusively while in use, which is the lock.
    /// Only keys, states, times, the server's answer and error ids are written: never message
    /// content, a password or a session id.
    /// </summary>
    /// <remarks>
    /// Thread-safe: appends are serialised, so a caller that sends several rows at once calls
    /// <see cref="SubmitAsync"/> from wherever each request is started, and each row's pending line
    /// is on disk before that row's request begins.
    /// </remarks>
    public sealed class AosSendJournal : IDisposable
    {
        /// <summary>The first field of the first line: what the file is.</summary>
        internal const string Format = "AosMail send journal";
        internal const string Version = "1";

        /// <summary>The header's start as written (the format name comes first), to recognise a header torn by a crash.</summary>
        private static readonly string HeaderStart = "{\"journal\":\"" + Format + "\"";

        /// <summary>How rows are keyed when no property is named.</summary>
        public const string KeyByContent = "content";

        /// <summary>How rows are keyed by the value of a property of the row (a name that cannot be taken for <see cref="KeyByContent"/>).</summary>
        public static string KeyByProperty(string name) => PropertyPrefix + name;

        private const string PropertyPrefix = "property:";

        private readonly object _gate = new object();
        private readonly FileStream? _file;
        private readonly Dictionary<string, AosJournalEntry> _entries;
        private readonly HashSet<string> _seenThisRun = new HashSet<string>(StringComparer.Ordinal);
        private int _sent;
        private int _skipped;
        private int _unknown;
        private int _failed;
        private AosException? _broken;

        private AosSendJournal(string path, FileStream? file, Dictionary<string, AosJournalEntry> entries, bool droppedIncompleteLine, bool readOnly)
        {
            Path = path;
            _file = file;
            _entries = entries;
            DroppedIncompleteLine = droppedIncompleteLine;
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
            get { lock (_gate) return _entries.Count; }
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

            FileStream? file = OpenFile(path, readOnly);
            try
            {
                byte[] content = file == null ? Array.Empty<byte>() : ReadAll(file);
                var header = new Dictionary<string, string?>
                {
                    ["journal"] = Format,
                    ["version"] = Version,
                    ["server"] = server.AbsoluteUri,
                    ["account"] = account,
                    ["keyBy"] = keyBy,
                };
                var entries = Replay(path, content, header, out long goodLength, out bool dropped);
                if (file != null && !readOnly)
                {
                    if (goodLength < content.Length)
                    {
                        file.SetLength(goodLength);
                    }

                    file.Seek(0, SeekOrigin.End);
                    if (goodLength == 0)
                    {
                        header["created"] = Stamp(DateTimeOffset.UtcNow);
                        WriteLine(file, AosJournalJson.Write(header), path);
                    }
                }

                if (readOnly)
                {
                    file?.Dispose();
                    file = null;
                }

                return new AosSendJournal(path, file, entries, dropped, readOnly);
            }
            catch
            {
                file?.Dispose();
                throw;
            }
        }

        /// <summary>The latest record of a key, or null when none.</summary>
        public AosJournalEntry? Find(string key)
        {
            lock (_gate)
            {
                return _entries.TryGetValue(key, out var entry) ? entry : null;
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
            lock (_gate)
            {
                _entries.TryGetValue(key, out earlier);
                if (!_seenThisRun.Add(key))
                {
                    return AosJournalVerdict.DuplicateKey;
                }

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
        /// the result or the exception on. A confirmed send whose sent line cannot be written is
        /// still a result, marked <see cref="AosSubmitResult.NotRecorded"/>.
        /// </summary>
        public async Task<AosSubmitResult> SubmitAsync(string key, Func<Task<AosSubmitResult>> submit)
        {
            if (string.IsNullOrEmpty(key)) throw new ArgumentException("A journal key must not be empty.", nameof(key));
            if (submit == null) throw new ArgumentNullException(nameof(submit));

            Append(key, AosJournalState.Pending, answer: null, errorId: null, mustRecord: true);
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
                    Append(key, AosJournalState.Failed, answer: null, errorId, mustRecord: false);
                    Interlocked.Increment(ref _failed);
                }
                else
                {
                    Append(key, AosJournalState.Unknown, answer: null, errorId, mustRecord: false);
                    Interlocked.Increment(ref _unknown);
                }

                throw;
            }

            Interlocked.Increment(ref _sent);
            try
            {
                Append(key, AosJournalState.Sent, result.ServerAnswer, errorId: null, mustRecord: true);
            }
            catch (AosException e)
            {
                // Sent all the same: the row's report says so, and that the journal missed it.
                return result.WithNotRecorded(NotRecorded(e));
            }

            return result;
        }

        /// <summary>Why a confirmed row has no sent line, and what a rerun does with it (its pending line is on disk).</summary>
        private AosException NotRecorded(AosException writeFailure) =>
            new AosException(AosErrorIds.JournalWriteFailed, AosErrorCategory.WriteError,
                "The server confirmed this message, but the journal '" + Path + "' could not record it ("
                + (writeFailure.InnerException?.Message ?? writeFailure.Message).TrimEnd('.') + "). "
                + "A rerun with this journal reports it as of unknown outcome and does not send it again (unless -RetryUnknown).",
                Path, writeFailure);

        public void Dispose()
        {
            lock (_gate)
            {
                _file?.Dispose();
            }
        }

        /// <summary>
        /// Writes one record and flushes it to disk. A failure marks the journal broken; it throws
        /// AosJournalWriteFailed when <paramref name="mustRecord"/>, and otherwise leaves the
        /// exception already on its way (the row's own error) to be reported.
        /// </summary>
        private void Append(string key, AosJournalState state, string? answer, string? errorId, bool mustRecord)
        {
            if (IsReadOnly) throw new InvalidOperationException("The journal was opened to read only.");
            var now = DateTimeOffset.UtcNow;
            string line = AosJournalJson.Write(new Dictionary<string, string?>
            {
                ["key"] = key,
                ["state"] = StateName(state),
                ["time"] = Stamp(now),
                ["answer"] = answer,
                ["error"] = errorId,
            });
            lock (_gate)
            {
                if (_broken != null)
                {
                    if (mustRecord) throw _broken;
                    return;
                }

                try
                {
                    WriteLine(_file!, line, Path);
                }
                catch (AosException e)
                {
                    _broken = e;
                    if (mustRecord) throw;
                    return;
                }

                _entries.TryGetValue(key, out var previous);
                var attempted = state == AosJournalState.Pending ? now : previous?.Attempted ?? now;
                _entries[key] = new AosJournalEntry(key, state, now, attempted, answer, errorId);
            }
        }

        private static void WriteLine(FileStream file, string line, string path)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
            try
            {
                file.Write(bytes, 0, bytes.Length);
                file.Flush(flushToDisk: true);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ObjectDisposedException)
            {
                throw new AosException(AosErrorIds.JournalWriteFailed, AosErrorCategory.WriteError,
                    "Could not write to the journal '" + path + "': " + e.Message + " No further message is sent, since the journal could not record it.",
                    path, e);
            }
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
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
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

        private static byte[] ReadAll(FileStream file)
        {
            var content = new byte[file.Length];
            int read = 0;
            while (read < content.Length)
            {
                int n = file.Read(content, read, content.Length - read);
                if (n == 0) break;
                read += n;
            }

            if (read < content.Length) Array.Resize(ref content, read);
            return content;
        }

        /// <summary>
        /// Replays the records in order (the latest record of a key wins). <paramref name="goodLength"/>
        /// is where the valid lines end: an incomplete last line (no line break, or not a record) is
        /// what a crash during a write leaves, and is dropped. Any other bad line, or a first line that
        /// is not this journal's header, is an error: the file is left as it is.
        /// </summary>
        private static Dictionary<string, AosJournalEntry> Replay(string path, byte[] content, Dictionary<string, string?> expected,
            out long goodLength, out bool dropped)
        {
            var entries = new Dictionary<string, AosJournalEntry>(StringComparer.Ordinal);
            goodLength = 0;
            dropped = false;

            int start = content.Length >= 3 && content[0] == 0xEF && content[1] == 0xBB && content[2] == 0xBF ? 3 : 0;
            var lines = new List<KeyValuePair<int, int>>();
            for (int i = start, lineStart = start; i < content.Length; i++)
            {
                if (content[i] == (byte)'\n')
                {
                    lines.Add(new KeyValuePair<int, int>(lineStart, i + 1));
                    lineStart = i + 1;
                }
            }

            int complete = lines.Count == 0 ? start : lines[lines.Count - 1].Value;
            if (lines.Count == 0)
            {
                // Nothing, or a header cut short by a crash: a new journal. Anything else is some other file.
                string text = Encoding.UTF8.GetString(content, start, content.Length - start).TrimEnd('\0');
                if (text.Length > 0 && !HeaderStart.StartsWith(text, StringComparison.Ordinal) && !text.StartsWith(HeaderStart, StringComparison.Ordinal))
                {
                    throw NotAJournal(path, "its first line is not an AosMail journal header");
                }

                dropped = text.Length > 0;
                return entries;
            }

            CheckHeader(path, LineText(content, lines[0]), expected);
            goodLength = lines[0].Value;
            for (int n = 1; n < lines.Count; n++)
            {
                string text = LineText(content, lines[n]);
                if (text.Trim().Length == 0)
                {
                    goodLength = lines[n].Value;
                    continue;
                }

                if (!TryReadRecord(text, entries))
                {
                    if (n == lines.Count - 1 && complete == content.Length)
                    {
                        dropped = true;
                        break;
                    }

                    throw NotAJournal(path, "line " + (n + 1).ToString(CultureInfo.InvariantCulture) + " is not a journal record");
                }

                goodLength = lines[n].Value;
            }

            if (complete < content.Length)
            {
                dropped = true;
            }

            return entries;
        }

        private static string LineText(byte[] content, KeyValuePair<int, int> line) =>
            Encoding.UTF8.GetString(content, line.Key, line.Value - line.Key).TrimEnd('\n', '\r');

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
                : keyBy == KeyByContent ? "their content (no -JournalKey)" : "'" + keyBy + "'";

        private static bool TryReadRecord(string line, Dictionary<string, AosJournalEntry> entries)
        {
            Dictionary<string, string?> record;
            try
            {
                record = AosJournalJson.Read(line);
            }
            catch (FormatException)
            {
                return false;
            }

            if (!record.TryGetValue("key", out var key) || string.IsNullOrEmpty(key)
                || !record.TryGetValue("state", out var stateName) || !TryParseState(stateName, out var state)
                || !record.TryGetValue("time", out var timeText)
                || !DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                return false;
            }

            record.TryGetValue("answer", out var answer);
            record.TryGetValue("error", out var errorId);
            entries.TryGetValue(key!, out var previous);
            var attempted = state == AosJournalState.Pending ? time : previous?.Attempted ?? time;
            entries[key!] = new AosJournalEntry(key!, state, time, attempted, answer, errorId);
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
    }
}
