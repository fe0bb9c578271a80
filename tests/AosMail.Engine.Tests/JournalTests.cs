using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>The send journal's file format, lock, replay and verdicts, on real files.</summary>
public sealed class JournalTests : IDisposable
{
    private static readonly Uri Server = new Uri("https://mail.example.org/cgi-bin/vo");
    private const string Account = "demo@example.org";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "aosmail-journal-tests-" + Guid.NewGuid().ToString("N"));

    public JournalTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, true);

    private string NewPath() => Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".jsonl");

    private static AosSendJournal Open(string path, string keyBy = AosSendJournal.KeyByContent, Uri? server = null, string account = Account, bool readOnly = false) =>
        AosSendJournal.Open(path, server ?? Server, account, keyBy, readOnly);

    /// <summary>A new journal in which row "a" was sent.</summary>
    private async Task<string> JournalWithRowASent()
    {
        string path = NewPath();
        using (var journal = Open(path))
        {
            await journal.SubmitAsync("a", Ok);
        }

        return path;
    }

    private static Task<AosSubmitResult> Ok() =>
        Task.FromResult(new AosSubmitResult(AosSubmitKind.Send, DateTimeOffset.Now, TimeSpan.FromMilliseconds(5), "OK", 123, false));

    private static Func<Task<AosSubmitResult>> Throws(string errorId) => () =>
        Task.FromException<AosSubmitResult>(new AosException(errorId, AosErrorCategory.ConnectionError, "test failure"));

    /// <summary>
    /// The file as another process sees it while the journal holds it: cat takes no lock, where .NET
    /// in this process would be refused by the journal's own lock (which is the point of it).
    /// </summary>
    private static string ReadOnDisk(string path)
    {
        using var cat = Process.Start(new ProcessStartInfo("cat", path) { RedirectStandardOutput = true, UseShellExecute = false })!;
        string text = cat.StandardOutput.ReadToEnd();
        cat.WaitForExit();
        return text;
    }

    /// <summary>The lines of a journal's text: up to its first NUL, where the room of zeros an open journal keeps begins.</summary>
    private static string[] Lines(string text)
    {
        int zeros = text.IndexOf('\0');
        return (zeros < 0 ? text : text.Substring(0, zeros)).Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>What a process that dies now leaves on disk: a copy of the open journal's file, taken without its lock (cp).</summary>
    private string CopyOnDisk(string path)
    {
        string copy = NewPath();
        using var cp = Process.Start(new ProcessStartInfo("cp", "\"" + path + "\" \"" + copy + "\"") { UseShellExecute = false })!;
        cp.WaitForExit();
        Assert.Equal(0, cp.ExitCode);
        return copy;
    }

    /// <summary>The file a journal leaves when its process dies once <paramref name="rows"/> are done (a copy of it taken then).</summary>
    private async Task<string> LeftByACrash(Func<AosSendJournal, Task> rows)
    {
        string path = NewPath();
        using var journal = Open(path);
        await rows(journal);
        return CopyOnDisk(path);
    }

    /// <summary>Writes <paramref name="text"/> into the zeros of a journal's file, <paramref name="gap"/> bytes after its lines; returns the file's bytes then.</summary>
    private static byte[] WriteIntoTheZeros(string path, int gap, string text)
    {
        byte[] bytes = File.ReadAllBytes(path);
        byte[] written = Encoding.UTF8.GetBytes(text);
        Assert.True(bytes.Length > DataLength(bytes) + gap + written.Length, "room of zeros after the lines");
        Array.Copy(written, 0, bytes, DataLength(bytes) + gap, written.Length);
        File.WriteAllBytes(path, bytes);
        return bytes;
    }

    /// <summary>Where the journal's lines end in its bytes: at the first NUL, else at the end.</summary>
    private static int DataLength(byte[] bytes)
    {
        int zero = Array.IndexOf(bytes, (byte)0);
        return zero < 0 ? bytes.Length : zero;
    }

    [Fact]
    public void JsonLinesRoundTripEscapes()
    {
        string value = "quote \" backslash \\ newline \n tab \t nul \0 é 😀 \u2028";
        string line = AosJournalJson.Write(new[] { new System.Collections.Generic.KeyValuePair<string, string?>("k", value) });
        Assert.DoesNotContain('\n', line);
        Assert.Equal(value, AosJournalJson.Read(line)["k"]);
        Assert.Equal("2", AosJournalJson.Read("{ \"a\" : 2 , \"b\":null,\"c\":true }")["a"]);
        Assert.Null(AosJournalJson.Read("{\"b\":null}")["b"]);
        foreach (string bad in new[] { "", "{", "{\"a\":\"x\"", "{\"a\":\"x\"}}", "{\"a\":x}", "{\"a\":[1]}", "[]", "{\"a\":\"\\q\"}" })
        {
            Assert.Throws<FormatException>(() => AosJournalJson.Read(bad));
        }
    }

    [Fact]
    public void NewJournalStartsWithItsHeader()
    {
        string path = NewPath();
        using (Open(path, AosSendJournal.KeyByProperty("EmployeeId")))
        {
        }

        string[] lines = File.ReadAllLines(path);
        Assert.Single(lines);
        var header = AosJournalJson.Read(lines[0]);
        Assert.StartsWith("{\"journal\":\"AosMail send journal\"", lines[0]);
        Assert.Equal("1", header["version"]);
        Assert.Equal("https://mail.example.org/cgi-bin/vo", header["server"]);
        Assert.Equal(Account, header["account"]);
        Assert.Equal("property:EmployeeId", header["keyBy"]);
        Assert.True(DateTimeOffset.TryParse(header["created"], out _));
    }

    [Fact]
    public async Task EachStateIsOnDiskBeforeTheNextStep()
    {
        string path = NewPath();
        using var journal = Open(path);
        string? duringRequest = null;
        AosSubmitResult result = await journal.SubmitAsync("row-1", () =>
        {
            duringRequest = ReadOnDisk(path);
            return Ok();
        });

        Assert.Equal("OK", result.ServerAnswer);
        string[] before = Lines(duringRequest!);
        Assert.Equal(2, before.Length);
        Assert.Equal("row-1", AosJournalJson.Read(before[1])["key"]);
        Assert.Equal("pending", AosJournalJson.Read(before[1])["state"]);

        string[] after = Lines(ReadOnDisk(path));
        Assert.Equal(3, after.Length);
        var sent = AosJournalJson.Read(after[2]);
        Assert.Equal("sent", sent["state"]);
        Assert.Equal("OK", sent["answer"]);
        Assert.Equal(1, journal.Sent);
    }

    [Fact]
    public async Task RerunSkipsSentReportsUnknownAndResendsFailed()
    {
        string path = NewPath();
        using (var journal = Open(path))
        {
            Assert.Equal(AosJournalVerdict.Send, journal.Admit("sent", false, out _));
            await journal.SubmitAsync("sent", Ok);
            foreach (var (key, errorId) in new[] { ("refused", AosErrorIds.ServerRejected), ("unreachable", AosErrorIds.ConnectionFailed), ("unknown", AosErrorIds.OutcomeUnknown) })
            {
                journal.Admit(key, false, out _);
                var error = await Assert.ThrowsAsync<AosException>(() => journal.SubmitAsync(key, Throws(errorId)));
                Assert.Equal(errorId, error.ErrorId);
            }

            journal.Admit("stopped", false, out _);
            await Assert.ThrowsAsync<OperationCanceledException>(() => journal.SubmitAsync("stopped", () => Task.FromException<AosSubmitResult>(new OperationCanceledException())));
            Assert.Equal((1, 0, 2, 2), (journal.Sent, journal.Skipped, journal.Unknown, journal.Failed));
        }

        using (var rerun = Open(path))
        {
            Assert.Equal(5, rerun.RecordedKeys);
            Assert.Equal(AosJournalVerdict.AlreadySent, rerun.Admit("sent", false, out var sent));
            Assert.Equal(AosJournalState.Sent, sent!.State);
            Assert.Equal("OK", sent.Answer);
            Assert.Equal(AosJournalVerdict.Send, rerun.Admit("refused", false, out var refused));
            Assert.Equal(AosErrorIds.ServerRejected, refused!.ErrorId);
            Assert.Equal(AosJournalVerdict.Send, rerun.Admit("unreachable", false, out _));
            Assert.Equal(AosJournalVerdict.OutcomeUnknown, rerun.Admit("unknown", false, out var unknown));
            Assert.Equal(AosJournalState.Unknown, unknown!.State);
            Assert.Equal(AosErrorIds.OutcomeUnknown, unknown.ErrorId);
            Assert.True(unknown.Attempted <= unknown.Time);
            Assert.Equal(AosJournalVerdict.OutcomeUnknown, rerun.Admit("stopped", false, out var stopped));
            Assert.Equal(nameof(OperationCanceledException), stopped!.ErrorId);
            Assert.Equal(AosJournalVerdict.Send, rerun.Admit("new", false, out var none));
            Assert.Null(none);
            Assert.Equal((0, 1, 2, 0), (rerun.Sent, rerun.Skipped, rerun.Unknown, rerun.Failed));
        }
    }

    [Fact]
    public async Task PendingLeftByACrashIsUnknownUntilRetried()
    {
        string path = await JournalWithRowASent();

        DateTimeOffset attempted = DateTimeOffset.UtcNow.AddMinutes(-5);
        File.AppendAllText(path, "{\"key\":\"b\",\"state\":\"pending\",\"time\":\"" + attempted.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'") + "\"}\n");

        using (var rerun = Open(path))
        {
            Assert.Equal(AosJournalVerdict.OutcomeUnknown, rerun.Admit("b", retryUnknown: false, out var pending));
            Assert.Equal(AosJournalState.Pending, pending!.State);
            Assert.Equal(attempted.ToUnixTimeMilliseconds(), pending.Attempted.ToUnixTimeMilliseconds());
        }

        using (var retry = Open(path))
        {
            Assert.Equal(AosJournalVerdict.Send, retry.Admit("b", retryUnknown: true, out _));
            Assert.Equal(AosJournalVerdict.AlreadySent, retry.Admit("a", retryUnknown: true, out _));
            await retry.SubmitAsync("b", Ok);
        }

        using (var last = Open(path))
        {
            Assert.Equal(AosJournalVerdict.AlreadySent, last.Admit("b", false, out _));
        }
    }

    [Fact]
    public async Task ARecordThatCannotBeWrittenStopsTheSend()
    {
        var journal = Open(NewPath());
        journal.Dispose();   // every write now fails, as on a full disk
        bool submitted = false;
        var error = await Assert.ThrowsAsync<AosException>(() => journal.SubmitAsync("a", () =>
        {
            submitted = true;
            return Ok();
        }));
        Assert.Equal(AosErrorIds.JournalWriteFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.WriteError, error.Category);
        Assert.False(submitted, "a row whose pending line is not on disk must not be sent");
        Assert.Same(error, journal.Broken);
        Assert.Same(error, await Assert.ThrowsAsync<AosException>(() => journal.SubmitAsync("b", Ok)));
    }

    [Fact]
    public void SecondRowWithAKeyIsADuplicate()
    {
        using var journal = Open(NewPath());
        Assert.Equal(AosJournalVerdict.Send, journal.Admit("k", false, out _));
        Assert.Equal(AosJournalVerdict.DuplicateKey, journal.Admit("k", false, out _));
        Assert.Equal(AosJournalVerdict.DuplicateKey, journal.Admit("k", true, out _));
        Assert.Equal(AosJournalVerdict.Send, journal.Admit("K", false, out _));
    }

    [Fact]
    public void OneJournalOneUserAtATime()
    {
        string path = NewPath();
        using (Open(path))
        {
            var error = Assert.Throws<AosException>(() => Open(path));
            Assert.Equal(AosErrorIds.JournalInUse, error.ErrorId);
            Assert.Equal(AosErrorCategory.ResourceUnavailable, error.Category);
            Assert.Equal(path, error.Target);
            Assert.Equal(AosErrorIds.JournalInUse, Assert.Throws<AosException>(() => Open(path, readOnly: true)).ErrorId);
        }

        using (Open(path))
        {
        }
    }

    [Fact]
    public async Task AJournalKeyedByTheEarlierContentKeyIsRefusedNotReadAsUnsent()
    {
        // Its rows' keys were hashed from other inputs: read with today's keys, every row would look
        // new and be sent again. Refused instead, the file unchanged.
        string path = NewPath();
        using (var journal = Open(path))
        {
            await journal.SubmitAsync("sha256:" + new string('a', 64), Ok);
        }

        File.WriteAllText(path, File.ReadAllText(path).Replace("\"keyBy\":\"content:2\"", "\"keyBy\":\"content\""));
        byte[] before = File.ReadAllBytes(path);
        var error = Assert.Throws<AosException>(() => Open(path));
        Assert.Equal(AosErrorIds.JournalMismatch, error.ErrorId);
        Assert.Contains("earlier AosMail", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void JournalOfAnotherServerAccountOrKeyIsRefused()
    {
        string path = NewPath();
        using (Open(path))
        {
        }

        byte[] before = File.ReadAllBytes(path);
        var cases = new Func<AosSendJournal>[]
        {
            () => Open(path, server: new Uri("https://other.example.org/cgi-bin/vo")),
            () => Open(path, account: "bob@example.org"),
            () => Open(path, keyBy: AosSendJournal.KeyByProperty("EmployeeId")),
            () => Open(path, keyBy: AosSendJournal.KeyByProperty("content")),
        };
        foreach (var open in cases)
        {
            var error = Assert.Throws<AosException>(open);
            Assert.Equal(AosErrorIds.JournalMismatch, error.ErrorId);
            Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
            Assert.Contains(path, error.Message);
        }

        Assert.Equal(before, File.ReadAllBytes(path));
        using (Open(path, account: "DEMO@example.org"))
        {
        }
    }

    [Theory]
    [InlineData("{\"key\":\"b\",\"sta")]
    [InlineData("{\"key\":\"b\",\"state\":\"sent\",\"time\":\"2026-01-01T00:00:00.000Z\",\"answ")]
    [InlineData("{\"key\":\"b\",\"sta\0\0\0\0\0\0")]
    [InlineData("{\"key\":\"b\",\"sta\n")]
    public async Task IncompleteLastLineIsDroppedAndTheJournalGoesOn(string torn)
    {
        string path = await JournalWithRowASent();
        long good = new FileInfo(path).Length;
        File.AppendAllText(path, torn);
        using (var rerun = Open(path))
        {
            Assert.True(rerun.DroppedIncompleteLine);
            Assert.Equal(AosJournalVerdict.AlreadySent, rerun.Admit("a", false, out _));
            Assert.Equal(AosJournalVerdict.Send, rerun.Admit("b", false, out _));
            await rerun.SubmitAsync("b", Ok);
        }

        Assert.True(new FileInfo(path).Length > good);
        string[] lines = File.ReadAllLines(path);
        Assert.All(lines, line => AosJournalJson.Read(line));
        using (var last = Open(path))
        {
            Assert.False(last.DroppedIncompleteLine);
            Assert.Equal(AosJournalVerdict.AlreadySent, last.Admit("b", false, out _));
        }
    }

    [Fact]
    public async Task AnOpenJournalKeepsZerosAheadOfItsLinesSoAFlushDoesNotGrowTheFile()
    {
        string path = NewPath();
        using (var journal = Open(path))
        {
            await journal.SubmitAsync("row-1", Ok);
            long length = new FileInfo(path).Length;
            byte[] first = File.ReadAllBytes(CopyOnDisk(path));
            int data = DataLength(first);
            Assert.True(length >= data + AosSendJournal.PreallocationBytes / 2, "room of zeros ahead of the lines: " + length + " bytes for " + data);
            Assert.All(first.Skip(data), b => Assert.Equal(0, b));

            for (int i = 2; i <= 20; i++) await journal.SubmitAsync("row-" + i, Ok);
            Assert.Equal(length, new FileInfo(path).Length);
            Assert.Equal(41, Lines(ReadOnDisk(path)).Length);
        }

        // Closed: the lines only, as a journal without the room would be.
        byte[] closed = File.ReadAllBytes(path);
        Assert.Equal(closed.Length, DataLength(closed));
        Assert.Equal((byte)'\n', closed[closed.Length - 1]);
        Assert.Equal(41, File.ReadAllLines(path).Length);
        Assert.All(File.ReadAllLines(path), line => AosJournalJson.Read(line));
    }

    [Fact]
    public async Task AJournalLeftWithItsZerosByACrashIsReadToItsLastLineAndContinuedThere()
    {
        string crashed = await LeftByACrash(async journal =>
        {
            await journal.SubmitAsync("a", Ok);
            await journal.BeginAsync("b");
        });

        // Lines a crash never flushed, after the first NUL, are no records (a sent line of c here).
        byte[] left = WriteIntoTheZeros(crashed, 10, "\n{\"key\":\"c\",\"state\":\"sent\",\"time\":\"2026-01-01T00:00:00.000Z\",\"answer\":\"OK\"}\n");

        using (var preview = Open(crashed, readOnly: true))
        {
            Assert.False(preview.DroppedIncompleteLine);
            Assert.Equal(2, preview.RecordedKeys);
        }

        Assert.Equal(left, File.ReadAllBytes(crashed));
        using (var rerun = Open(crashed))
        {
            Assert.False(rerun.DroppedIncompleteLine, "zeros are no incomplete line");
            Assert.Equal(AosJournalVerdict.AlreadySent, rerun.Admit("a", false, out _));
            Assert.Equal(AosJournalVerdict.OutcomeUnknown, rerun.Admit("b", false, out _));
            Assert.Equal(AosJournalVerdict.Send, rerun.Admit("c", false, out _));
            await rerun.SubmitAsync("c", Ok);
        }

        // The next line follows the last one: the zeros and what lay in them are gone.
        string[] lines = File.ReadAllLines(crashed);
        Assert.Equal(new[] { "a pending", "a sent", "b pending", "c pending", "c sent" },
            lines.Skip(1).Select(AosJournalJson.Read).Select(l => l["key"] + " " + l["state"]).ToArray());
        Assert.Equal(File.ReadAllBytes(crashed).Length, DataLength(File.ReadAllBytes(crashed)));
    }

    [Fact]
    public async Task ALineTornBeforeTheZerosIsDroppedAndOverwritten()
    {
        string crashed = await LeftByACrash(journal => journal.SubmitAsync("a", Ok));
        WriteIntoTheZeros(crashed, 0, "{\"key\":\"b\",\"state\":\"sent\",\"ti");

        using (var rerun = Open(crashed))
        {
            Assert.True(rerun.DroppedIncompleteLine);
            Assert.Equal(AosJournalVerdict.Send, rerun.Admit("b", false, out _));
            await rerun.SubmitAsync("b", Ok);
        }

        string[] lines = File.ReadAllLines(crashed);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, line => AosJournalJson.Read(line));
        Assert.Equal("sent", AosJournalJson.Read(lines[4])["state"]);
    }

    [Fact]
    public void AFileThatStartsWithZerosIsNotAJournal()
    {
        string path = NewPath();
        byte[] content = new byte[3 * 65536];
        Encoding.UTF8.GetBytes("{\"journal\":\"AosMail send journal\"}\n").CopyTo(content, 100);
        File.WriteAllBytes(path, content);
        Assert.Equal(AosErrorIds.JournalCorrupt, Assert.Throws<AosException>(() => Open(path)).ErrorId);
        Assert.Equal(content, File.ReadAllBytes(path));
    }

    [Fact]
    public void HeaderCutShortStartsANewJournal()
    {
        string path = NewPath();
        File.WriteAllText(path, "{\"journal\":\"AosMail se");
        using (var journal = Open(path))
        {
            Assert.True(journal.DroppedIncompleteLine);
        }

        Assert.Equal("AosMail send journal", AosJournalJson.Read(File.ReadAllLines(path).Single())["journal"]);
    }

    [Theory]
    [InlineData("EmployeeId,To\nE1,a@x.org\n")]
    [InlineData("EmployeeId,To")]
    [InlineData("{\"something\":\"else\"}\n")]
    public void AFileThatIsNotAJournalIsLeftAlone(string content)
    {
        string path = NewPath();
        File.WriteAllText(path, content);
        var error = Assert.Throws<AosException>(() => Open(path));
        Assert.Equal(AosErrorIds.JournalCorrupt, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidData, error.Category);
        Assert.Equal(content, File.ReadAllText(path));
    }

    [Fact]
    public async Task ABadLineBeforeTheLastIsAnErrorNotDropped()
    {
        string path = await JournalWithRowASent();

        File.AppendAllText(path, "not json\n{\"key\":\"b\",\"state\":\"sent\",\"time\":\"2026-01-01T00:00:00.000Z\"}\n");
        byte[] before = File.ReadAllBytes(path);
        var error = Assert.Throws<AosException>(() => Open(path));
        Assert.Equal(AosErrorIds.JournalCorrupt, error.ErrorId);
        Assert.Contains("line 4", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task ReadOnlyCreatesAndWritesNothing()
    {
        string missing = NewPath();
        using (var journal = Open(missing, readOnly: true))
        {
            Assert.Equal(AosJournalVerdict.Send, journal.Admit("a", false, out _));
        }

        Assert.False(File.Exists(missing));

        string path = await JournalWithRowASent();

        byte[] before = File.ReadAllBytes(path);
        using (var preview = Open(path, readOnly: true))
        {
            Assert.Equal(AosJournalVerdict.AlreadySent, preview.Admit("a", false, out _));
            await Assert.ThrowsAsync<InvalidOperationException>(() => preview.SubmitAsync("b", Ok));
            using (Open(path))
            {
            }
        }

        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task WritesOnlyKeysStatesTimesAndAnswers()
    {
        string path = NewPath();
        using (var journal = Open(path))
        {
            await journal.SubmitAsync("row-1", Ok);
            await Assert.ThrowsAsync<AosException>(() => journal.SubmitAsync("row-2", Throws(AosErrorIds.OutcomeUnknown)));
        }

        foreach (string line in File.ReadAllLines(path).Skip(1))
        {
            var names = AosJournalJson.Read(line).Keys.OrderBy(n => n, StringComparer.Ordinal);
            Assert.Subset(new System.Collections.Generic.HashSet<string> { "key", "state", "time", "answer", "error" }, names.ToHashSet());
        }

        Assert.DoesNotContain("test failure", File.ReadAllText(path));
    }

    [Fact]
    public void ContentKeyCoversWhatMakesTheMessage()
    {
        using var files = new TempFiles();
        string attachment = files.Create("report.pdf", 1000, seed: 1);

        AosMessage Make()
        {
            var message = new AosMessage { Subject = "Notice", Body = "Hello", Priority = 2, DraftId = null };
            message.To.Add("a@x.org");
            message.Cc.Add("c@x.org");
            message.Headers.Add(new System.Collections.Generic.KeyValuePair<string, string>("X-Id", "1"));
            message.Attachments.Add(AosAttachmentSource.FromFile(attachment));
            return message;
        }

        static string KeyOf(AosMessage message) => AosJournalKey.Of(message, AosFormBuilder.Prepare(message, AosSubmitKind.Send));

        string key = KeyOf(Make());
        Assert.Matches("^sha256:[0-9a-f]{64}$", key);
        Assert.Equal(key, KeyOf(Make()));

        var keepCopy = Make();
        keepCopy.KeepCopy = true;
        Assert.Equal(key, KeyOf(keepCopy));

        var changes = new Action<AosMessage>[]
        {
            m => m.To[0] = "b@x.org",
            m => m.To.Add("b@x.org"),
            m => { m.Cc.Clear(); m.To.Add("c@x.org"); },
            m => m.Bcc.Add("d@x.org"),
            m => m.Subject = "Notice!",
            m => m.Subject = null,
            m => m.Body = "Hello.",
            m => m.BodyIsHtml = true,
            m => m.Priority = null,
            m => m.Headers[0] = new System.Collections.Generic.KeyValuePair<string, string>("X-Id", "2"),
            m => m.DraftId = "d1",
            m => m.Attachments[0] = AosAttachmentSource.FromFile(files.Create("other.pdf", 1000, seed: 1)),
            m => m.Attachments[0] = AosAttachmentSource.FromFile(files.Create("report2.pdf", 1000, seed: 2)),
            m => m.Attachments[0] = AosAttachmentSource.FromBytes("report.pdf", new byte[1000]),
            m => { m.BodyIsHtml = true; m.TextBody = "Hello"; },
            m => m.ReplyTo.Add("r@x.org"),
            m => m.ReadReceiptTo = "a@x.org",
            m => { m.BodyIsHtml = true; m.Body = "<img src=\"cid:logo\">"; m.InlineAttachments.Add(new System.Collections.Generic.KeyValuePair<string, AosAttachmentSource>("logo", AosAttachmentSource.FromBytes("logo.png", new byte[] { 1 }))); },
        };
        var keys = changes.Select(change =>
        {
            var message = Make();
            change(message);
            return KeyOf(message);
        }).ToList();
        Assert.DoesNotContain(key, keys);
        Assert.Equal(keys.Count, keys.Distinct().Count());

        // Same name, other content: the key follows the content.
        File.WriteAllBytes(attachment, Encoding.ASCII.GetBytes("changed"));
        Assert.NotEqual(key, KeyOf(Make()));
    }

    // ---- a journal that cannot be fooled ----

    /// <summary>Keys no text encoding keeps as they are. A [Fact], not theory data: a test runner may re-encode a theory's strings.</summary>
    private static readonly string[] AnyString =
    {
        "lone high \uD800 surrogate",
        "\uDC00 lone low surrogate first",
        "ends with a lone high \uD83D",
        "swapped pair \uDE00\uD83D",
        "nul \0 inside",
        "\0",
        "pair \uD83D\uDE00 kept",
        "noncharacter \uFFFF and \uFFFE",
        "bom \uFEFF and bidi \u202E",
        "line \u2028 paragraph \u2029 and \r\n",
        "\u001b[31m escape",
        "e\u0301 and \u00E9 differ",
    };

    [Fact]
    public async Task AKeySurvivesAnyStringExactly()
    {
        string path = NewPath();
        using (var journal = Open(path, AosSendJournal.KeyByProperty("Id")))
        {
            foreach (string key in AnyString)
            {
                Assert.Equal(AosJournalVerdict.Send, journal.Admit(key, false, out _));
                await journal.SubmitAsync(key, Ok);
            }
        }

        // Every line is valid UTF-8 (a lone surrogate has no UTF-8 form: it is escaped).
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(bytes, new UTF8Encoding(false, true).GetBytes(new UTF8Encoding(false, true).GetString(bytes)));

        using (var rerun = Open(path, AosSendJournal.KeyByProperty("Id")))
        {
            Assert.Equal(AnyString.Length, rerun.RecordedKeys);
            foreach (string key in AnyString)
            {
                Assert.True(AosJournalVerdict.AlreadySent == rerun.Admit(key, false, out var earlier), "key " + Escaped(key));
                Assert.Equal(AosJournalState.Sent, earlier!.State);

                // What a lossy round trip would have made of it is another key.
                string replaced = new string(key.Select(c => char.IsSurrogate(c) ? '\uFFFD' : c).ToArray());
                if (replaced != key) Assert.Equal(AosJournalVerdict.Send, rerun.Admit(replaced, false, out _));
                Assert.Equal(AosJournalVerdict.Send, rerun.Admit(key + "\0", false, out _));
            }
        }
    }

    private static string Escaped(string text) => string.Concat(text.Select(c => c < ' ' || c > '~' ? "\\u" + ((int)c).ToString("X4") : c.ToString()));

    public static TheoryData<byte[]> NotAJournal => new TheoryData<byte[]>
    {
        new byte[4096],
        new byte[] { 0, 0, 0, (byte)'\n' },
        Enumerable.Range(0, 300).Select(i => (byte)(i * 7 + 1)).ToArray(),
        new byte[] { 0xEF, 0xBB, 0xBF, 0, 0 },
        Encoding.UTF8.GetBytes("{\"journal\":\"AosMail send journal\",\"version\":\"1\",\"server\":\"https://other.example.org/\""),
        Encoding.UTF8.GetBytes("{\"journal\":\"AosMail send journal\"}garbage"),
        Encoding.UTF8.GetBytes("{\0"),
    };

    [Theory]
    [MemberData(nameof(NotAJournal))]
    public void BytesThatAreNotThisJournalsFirstLineAreRefusedUnchanged(byte[] content)
    {
        string path = NewPath();
        File.WriteAllBytes(path, content);
        var error = Assert.Throws<AosException>(() => Open(path));
        Assert.Equal(AosErrorIds.JournalCorrupt, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidData, error.Category);
        Assert.Equal(content, File.ReadAllBytes(path));
    }

    [Fact]
    public void ATornHeaderOfThisJournalStillStartsANewOne()
    {
        string path = NewPath();
        using (Open(path))
        {
        }

        string header = File.ReadAllText(path);
        foreach (int cut in new[] { 1, 20, header.Length - 20, header.Length - 3, header.Length - 1 })
        {
            File.WriteAllText(path, header.Substring(0, cut));
            using (var journal = Open(path))
            {
                Assert.True(journal.DroppedIncompleteLine, "cut at " + cut);
            }

            Assert.Single(File.ReadAllLines(path));
        }
    }

    [Theory]
    [InlineData("/dev/null")]
    [InlineData("/dev/zero")]
    [InlineData("fifo")]
    public async Task AFileThatIsNotARegularFileIsRefused(string name)
    {
        if (System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows)) return;   // no such files there; \\.\ device paths are refused by AosFileKind
        string path = name;
#if !NET
        // Mono (the Framework lane's stand-in) cannot ask a file's kind (AosFileKind needs .NET's
        // System.Native), and opening a FIFO blocks until a writer comes; .NET Framework runs on
        // Windows, which has no FIFOs in the file system. The FIFO case is proven on .NET only.
        if (name == "fifo") return;
#endif
        if (name == "fifo")
        {
            path = Path.Combine(_folder, "journal.fifo");
            using var mkfifo = Process.Start("mkfifo", path)!;
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        foreach (bool readOnly in new[] { false, true })
        {
            var open = Task.Run(() => Open(path, readOnly: readOnly));
            Assert.Same(open, await Task.WhenAny(open, Task.Delay(TimeSpan.FromSeconds(5))));
            var error = await Assert.ThrowsAsync<AosException>(() => open);
            Assert.Equal(AosErrorIds.InvalidPath, error.ErrorId);
            Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
            Assert.Contains("not a regular file", error.Message);
            Assert.Equal(path, error.Target);
        }
    }

    [Fact]
    public async Task AJournalWhoseZerosReachPastTheLimitIsOpenedAndCut()
    {
        // A crash leaves the room of zeros after the lines; the lines, not the zeros, count against the limit.
        string path = await JournalWithRowASent();
        long lines = new FileInfo(path).Length;
        using (var file = new FileStream(path, FileMode.Open))
        {
            file.SetLength(AosSendJournal.MaxFileBytes + 1);   // sparse zeros: costs no disk
        }

        using (var journal = Open(path))
        {
            Assert.Equal(AosJournalVerdict.AlreadySent, journal.Admit("a", retryUnknown: false, out _));
        }

        Assert.Equal(lines, new FileInfo(path).Length);
    }

    [Fact]
    public async Task AnOversizeFileIsRefusedUnchanged()
    {
        string path = await JournalWithRowASent();
        long limit = 256L * 1024 * 1024;
        using (var file = new FileStream(path, FileMode.Open))
        {
            file.SetLength(limit + 1);   // sparse: costs no disk
            file.Seek(limit, SeekOrigin.Begin);
            file.WriteByte((byte)'x');   // not a zero tail: text past the limit
        }

        var error = Assert.Throws<AosException>(() => Open(path));
        Assert.Equal("AosJournalTooLarge", error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidData, error.Category);
        Assert.Contains("256 MB", error.Message);
        Assert.Equal(limit + 1, new FileInfo(path).Length);
        Assert.Equal("AosJournalTooLarge", Assert.Throws<AosException>(() => Open(path, readOnly: true)).ErrorId);
    }

    // ---- group commit ----

    /// <summary>Holds the journal's flushes until released, one permit per flush, and notes where each flush ended.</summary>
    private sealed class HeldFlushes
    {
        private readonly SemaphoreSlim _permits = new SemaphoreSlim(0);
        public List<long> Ends { get; } = new List<long>();
        public int Waiting;

        public HeldFlushes(AosSendJournal journal)
        {
            var flush = journal.FlushToDisk;
            journal.FlushToDisk = file =>
            {
                Interlocked.Increment(ref Waiting);
                bool released = _permits.Wait(TimeSpan.FromSeconds(10));
                Interlocked.Decrement(ref Waiting);
                if (!released) throw new TimeoutException("A flush was held for 10 s: more flushes than the test allowed.");
                flush(file);
                lock (Ends) Ends.Add(file.Position);
            };
        }

        public void Release(int flushes = 1) => _permits.Release(flushes);

        /// <summary>Whether the line with <paramref name="marker"/> ends within what was flushed.</summary>
        public bool Flushed(string path, string marker)
        {
            string text = ReadOnDisk(path);
            int at = text.IndexOf(marker, StringComparison.Ordinal);
            if (at < 0) return false;
            long end = Encoding.UTF8.GetByteCount(text.Substring(0, text.IndexOf('\n', at) + 1));
            lock (Ends) return Ends.Count > 0 && end <= Ends.Max();
        }

        public async Task UntilHeld()
        {
            for (int i = 0; i < 500 && Volatile.Read(ref Waiting) == 0; i++) await Task.Delay(10);
            Assert.Equal(1, Volatile.Read(ref Waiting));
        }
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        for (int i = 0; i < 500 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition(), what);
    }

    [Fact]
    public async Task ALineIsOnDiskBeforeItsCallerGoesOn()
    {
        string path = NewPath();
        using var journal = Open(path);
        var held = new HeldFlushes(journal);
        int flushesAtRequest = -1;
        string? onDiskAtRequest = null;
        // On a thread of its own: a caller that finds no flush under way flushes on its own thread.
        var row = Task.Run(() => journal.SubmitAsync("row-1", () =>
        {
            flushesAtRequest = journal.Flushes;
            onDiskAtRequest = ReadOnDisk(path);
            return Ok();
        }));

        await held.UntilHeld();
        await Task.Delay(200);
        Assert.Equal(-1, flushesAtRequest);   // the request waits for its pending line's flush
        held.Release();

        await Until(() => flushesAtRequest != -1, "the request started");
        await held.UntilHeld();               // the sent line's flush
        await Task.Delay(200);
        Assert.Equal(1, flushesAtRequest);
        Assert.Equal("pending", AosJournalJson.Read(Lines(onDiskAtRequest!).Last())["state"]);
        Assert.False(row.IsCompleted, "the row's result waits for its sent line's flush");
        held.Release();

        Assert.Equal("OK", (await row).ServerAnswer);
        Assert.Equal(2, journal.Flushes);
        Assert.Equal("sent", AosJournalJson.Read(Lines(ReadOnDisk(path)).Last())["state"]);
    }

    [Fact]
    public async Task ALineQueuedBehindAFlushIsOnDiskBeforeItsCallerGoesOn()
    {
        string path = NewPath();
        using var journal = Open(path);
        var held = new HeldFlushes(journal);
        var answer = new TaskCompletionSource<AosSubmitResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Task.Run(() => journal.SubmitAsync("row-0", () => answer.Task));
        await held.UntilHeld();   // row-0's pending line is being flushed

        bool called = false;
        bool flushedAtRequest = false;
        var row = journal.SubmitAsync("row-1", () =>
        {
            called = true;
            flushedAtRequest = held.Flushed(path, "\"key\":\"row-1\",\"state\":\"pending\"");
            return Ok();
        });
        await Task.Delay(200);
        Assert.False(called, "row 1's request waits for the flush after the one under way");
        held.Release(10);
        answer.SetResult(await Ok());
        await Task.WhenAll(first, row);
        Assert.True(called);
        Assert.True(flushedAtRequest, "row 1's pending line was on disk when its request started");
        Assert.True(held.Flushed(path, "\"key\":\"row-1\",\"state\":\"sent\""));
    }

    [Fact]
    public async Task RowsStartedOrFinishedTogetherShareOneFlush()
    {
        string path = NewPath();
        using var journal = Open(path);
        var held = new HeldFlushes(journal);
        var answer = new TaskCompletionSource<AosSubmitResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        int requests = 0;
        Task<AosSubmitResult> Row(string key) => journal.SubmitAsync(key, () =>
        {
            Interlocked.Increment(ref requests);
            return answer.Task;
        });

        // Row 0's pending line is being flushed; 20 rows start meanwhile.
        var first = Task.Run(() => Row("row-0"));
        await held.UntilHeld();
        var rows = Enumerable.Range(1, 20).Select(i => Row("row-" + i)).ToList();
        Assert.Equal(0, Volatile.Read(ref requests));
        held.Release(2);
        await Until(() => Volatile.Read(ref requests) == 21, "all 21 requests started");
        Assert.Equal(2, journal.Flushes);

        // All 21 answers come at once: the sent lines written while one flush waits share the next.
        answer.SetResult(await Ok());
        await held.UntilHeld();
        await Until(() => Lines(ReadOnDisk(path)).Length - 1 + journal.QueuedLines == 42, "all 21 sent lines written or queued");
        held.Release(2);
        await Task.WhenAll(rows.Append(first));
        Assert.InRange(journal.Flushes, 3, 4);   // 21 sent lines in one or two flushes, as they came

        string[] lines = Lines(ReadOnDisk(path)).Skip(1).ToArray();
        Assert.Equal(42, lines.Length);
        Assert.All(lines.Take(21), line => Assert.Equal("pending", AosJournalJson.Read(line)["state"]));
        Assert.All(lines.Skip(21), line => Assert.Equal("sent", AosJournalJson.Read(line)["state"]));
        Assert.Equal(21, journal.Sent);
    }

    [Fact]
    public async Task ASentLineThatCannotBeWrittenIsItsOwnErrorAndCarriesTheResult()
    {
        string path = NewPath();
        var journal = Open(path);
        int flushes = 0;
        var flush = journal.FlushToDisk;
        journal.FlushToDisk = file =>
        {
            if (++flushes == 2) throw new IOException("No space left on device");
            flush(file);
        };

        bool submitted = false;
        var result = await journal.SubmitAsync("a", () =>
        {
            submitted = true;
            return Ok();
        });
        Assert.True(submitted);
        Assert.Equal("OK", result.ServerAnswer);
        var error = result.NotRecorded!;
        Assert.Equal("AosJournalSentNotRecorded", error.ErrorId);
        Assert.Equal(AosErrorCategory.WriteError, error.Category);
        Assert.Contains("confirmed this message", error.Message);
        Assert.Contains("No space left on device", error.Message);
        Assert.Equal(AosErrorIds.JournalWriteFailed, journal.Broken!.ErrorId);
        Assert.Equal(1, journal.Sent);

        // The next row is not sent: its pending line cannot be written once a record is missing.
        Assert.Same(journal.Broken, await Assert.ThrowsAsync<AosException>(() => journal.SubmitAsync("b", Ok)));
        journal.Dispose();

        // The sent line written before the failed flush was cut off: the row reads as pending, not sent.
        Assert.Equal("pending", AosJournalJson.Read(File.ReadAllLines(path).Last())["state"]);
        using var rerun = Open(path);
        Assert.False(rerun.DroppedIncompleteLine);
        Assert.Equal(AosJournalVerdict.OutcomeUnknown, rerun.Admit("a", false, out _));
    }

    [Fact]
    public async Task AFlushUnderWayLeavesASentLineQueuedMeanwhileForTheNextRow()
    {
        string path = NewPath();
        using var journal = Open(path);
        await journal.SubmitAsync("a", Ok, shareSentFlush: true);   // flush 1: a's pending line; a's sent line queued
        var held = new HeldFlushes(journal);
        var beginB = Task.Run(() => journal.BeginAsync("b"));        // flush 2: a's sent and b's pending lines
        await held.UntilHeld();
        var beginC = journal.BeginAsync("c");                          // queued behind it: flush 3, on the thread pool
        held.Release();
        await beginB;
        await held.UntilHeld();
        var b = await journal.SubmitAsync("b", Ok, shareSentFlush: true);   // b's sent line is queued while flush 3 runs
        held.Release();
        await beginC;
        await Task.Delay(200);
        Assert.Equal(3, journal.Flushes);
        Assert.Equal(1, journal.QueuedLines);
        Assert.True(b.AwaitsRecord, "b's sent line waits for the next row's flush, not a flush of its own");
        held.Release();
        await b.RecordAsync();
        Assert.Equal(4, journal.Flushes);
        Assert.Null(b.NotRecorded);
        held.Release(10);   // c, begun and never submitted, is recorded as not started when the journal closes
    }

    [Fact]
    public async Task WithSeveralInFlightTheCallerGoesOnWhileItsPendingLineIsFlushed()
    {
        string path = NewPath();
        using var journal = Open(path);
        var held = new HeldFlushes(journal);
        int requests = 0;
        Task<AosSubmitResult> Row(string key) => journal.SubmitAsync(key, () =>
        {
            Interlocked.Increment(ref requests);
            return Ok();
        }, shareSentFlush: true);

        // The row pipeline's thread starts row a and, while a's pending line is being flushed, rows b and c.
        var started = Task.Run(() => new[] { Row("a"), Row("b"), Row("c") });
        await held.UntilHeld();
        Assert.Same(started, await Task.WhenAny(started, Task.Delay(5000)));   // else the caller waited for the flush instead of starting the next rows
        Assert.Equal(0, Volatile.Read(ref requests));
        held.Release(10);
        var results = await Task.WhenAll(await started);
        Assert.Equal(3, requests);
        int pendingFlushes = journal.Flushes;
        Assert.InRange(pendingFlushes, 1, 2);   // a's pending line, with b's and c's or then theirs together
        await Task.WhenAll(results.Select(r => r.RecordAsync()));
        Assert.Equal(pendingFlushes + 1, journal.Flushes);   // the three sent lines together
    }
}
