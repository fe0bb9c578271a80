using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
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

    private static string[] Lines(string text) => text.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);

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
    [InlineData("\0\0\0\0\0\0")]
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

        string key = AosJournalKey.Of(Make());
        Assert.Matches("^sha256:[0-9a-f]{64}$", key);
        Assert.Equal(key, AosJournalKey.Of(Make()));

        var keepCopy = Make();
        keepCopy.KeepCopy = true;
        Assert.Equal(key, AosJournalKey.Of(keepCopy));

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
            m => m.TextBody = "Hello",
            m => m.ReplyTo.Add("r@x.org"),
            m => m.ReadReceiptTo = "a@x.org",
            m => m.InlineAttachments.Add(new System.Collections.Generic.KeyValuePair<string, AosAttachmentSource>("logo", AosAttachmentSource.FromBytes("logo.png", new byte[] { 1 }))),
        };
        var keys = changes.Select(change =>
        {
            var message = Make();
            change(message);
            return AosJournalKey.Of(message);
        }).ToList();
        Assert.DoesNotContain(key, keys);
        Assert.Equal(keys.Count, keys.Distinct().Count());

        // Same name, other content: the key follows the content.
        File.WriteAllBytes(attachment, Encoding.ASCII.GetBytes("changed"));
        Assert.NotEqual(key, AosJournalKey.Of(Make()));
    }
}
