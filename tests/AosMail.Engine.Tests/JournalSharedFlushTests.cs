using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// Rows through the row pipeline and a real journal, as Send-AosMessage -JournalPath runs them: a
/// row's sent line waits for the next row's pending flush, and its report waits for that flush.
/// The journal's flush hook logs each flush and how far the file was on disk after it.
/// </summary>
public sealed class JournalSharedFlushTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "aosmail-journal-shared-" + Guid.NewGuid().ToString("N"));
    private readonly List<string> _events = new();
    private long _onDisk;

    public JournalSharedFlushTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, true);

    private AosSendJournal Open(string path, Func<int, bool>? failFlush = null)
    {
        var journal = AosSendJournal.Open(path, new Uri("https://mail.example.org/cgi-bin/vo"), "demo@example.org", AosSendJournal.KeyByContent);
        var flush = journal.FlushToDisk;
        int flushes = 0;
        journal.FlushToDisk = file =>
        {
            if (failFlush?.Invoke(++flushes) == true) throw new IOException("No space left on device");
            flush(file);
            lock (_events)
            {
                _onDisk = file.Position;
                _events.Add("flush");
            }
        };
        return journal;
    }

    private static Task<AosSubmitResult> Ok() =>
        Task.FromResult(new AosSubmitResult(AosSubmitKind.Send, DateTimeOffset.Now, TimeSpan.FromMilliseconds(1), "OK", 10, false));

    /// <summary>Whether the line of a key in a state is within what the last flush put on disk.</summary>
    private bool OnDisk(string path, string key, string state)
    {
        byte[] bytes;
        using (var cat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("cat", path) { RedirectStandardOutput = true, UseShellExecute = false })!)
        {
            var buffer = new MemoryStream();
            cat.StandardOutput.BaseStream.CopyTo(buffer);
            cat.WaitForExit();
            bytes = buffer.ToArray();
        }

        string text = Encoding.UTF8.GetString(bytes);
        int at = text.IndexOf("\"key\":\"" + key + "\",\"state\":\"" + state + "\"", StringComparison.Ordinal);
        if (at < 0) return false;
        lock (_events) return Encoding.UTF8.GetByteCount(text.Substring(0, text.IndexOf('\n', at) + 1)) <= _onDisk;
    }

    /// <summary>A pipeline of one row at a time whose writer notes each report and checks its sent line is on disk then.</summary>
    private AosRowPipeline<string> Sequential(string path, AosSendJournal journal, Func<string, bool>? stopAt = null) =>
        new AosRowPipeline<string>(1, stopOnError: false, wait: task => task.ContinueWith(_ => { }).Wait(), write: row =>
        {
            lock (_events) _events.Add($"write {row.Item} {row.State}");
            if (row.State == AosRowState.Sent) Assert.True(OnDisk(path, row.Item, "sent"), $"row {row.Item}'s result was written before its sent line was on disk");
            if (stopAt?.Invoke(row.Item) == true) throw new OperationCanceledException("downstream stopped");
        });

    private void Start(AosRowPipeline<string> rows, AosSendJournal journal, string key) =>
        rows.Start(key, () => journal.BeginAsync(key), () => journal.SubmitAsync(key, () =>
        {
            lock (_events) _events.Add("request " + key);
            return Ok();
        }, shareSentFlush: true));

    [Fact]
    public void OneRowAtATimeCostsOneFlushPerRowAndEachReportWaitsForItsSentLine()
    {
        string path = Path.Combine(_folder, "j.jsonl");
        using (var journal = Open(path))
        {
            var rows = Sequential(path, journal);
            foreach (string key in new[] { "r1", "r2", "r3", "r4", "r5" })
            {
                Start(rows, journal, key);
            }

            rows.Finish();
            // Five pending flushes (each carrying the sent line of the row before) and one at the end for r5's sent line.
            Assert.Equal(6, journal.Flushes);
            Assert.Equal(5, journal.Sent);
        }

        // Each row's pending line is flushed before its request; its report comes after the next flush and before the next request.
        Assert.Equal(new[]
        {
            "flush", "request r1",
            "flush", "write r1 Sent", "request r2",
            "flush", "write r2 Sent", "request r3",
            "flush", "write r3 Sent", "request r4",
            "flush", "write r4 Sent", "request r5",
            "flush", "write r5 Sent",
        }, _events);
        var states = File.ReadAllLines(path).Skip(1).Select(AosJournalJson.Read).Select(l => l["key"] + " " + l["state"]).ToArray();
        Assert.Equal(new[] { "r1 pending", "r1 sent", "r2 pending", "r2 sent", "r3 pending", "r3 sent", "r4 pending", "r4 sent", "r5 pending", "r5 sent" },
            states.OrderBy(s => s, StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void ARowWhoseRequestNeverStartedIsRecordedAsNotSent()
    {
        string path = Path.Combine(_folder, "j.jsonl");
        using (var journal = Open(path))
        {
            // The writer stops the command at r1's report (Select-Object -First 1), after r2's pending flush.
            var rows = Sequential(path, journal, stopAt: key => key == "r1");
            Start(rows, journal, "r1");
            Assert.Throws<OperationCanceledException>(() => Start(rows, journal, "r2"));
            Assert.DoesNotContain("request r2", _events);
        }

        var last = AosJournalJson.Read(File.ReadAllLines(path).Last());
        Assert.Equal("r2", last["key"]);
        Assert.Equal("failed", last["state"]);
        Assert.Equal("NotStarted", last["error"]);
        using var rerun = AosSendJournal.Open(path, new Uri("https://mail.example.org/cgi-bin/vo"), "demo@example.org", AosSendJournal.KeyByContent);
        Assert.Equal(AosJournalVerdict.AlreadySent, rerun.Admit("r1", false, out _));
        Assert.Equal(AosJournalVerdict.Send, rerun.Admit("r2", false, out _));
    }

    [Fact]
    public void AQueuedSentLineWhoseFlushFailsMakesItsRowSentNotRecorded()
    {
        string path = Path.Combine(_folder, "j.jsonl");
        var written = new List<AosRow<string>>();
        using var journal = Open(path, failFlush: n => n == 2);
        var rows = new AosRowPipeline<string>(1, stopOnError: false, wait: task => task.ContinueWith(_ => { }).Wait(), write: written.Add);
        Start(rows, journal, "r1");
        // r2's pending flush, which carries r1's sent line, fails: r1 was sent but is not recorded, r2 is not sent.
        Start(rows, journal, "r2");
        rows.Finish();
        Assert.Equal(new[] { AosRowState.SentNotRecorded, AosRowState.NotSent }, written.Select(r => r.State).ToArray());
        Assert.Equal(AosErrorIds.JournalSentNotRecorded, written[0].Result!.NotRecorded!.ErrorId);
        Assert.Equal(AosErrorIds.JournalWriteFailed, ((AosException)written[1].Error!).ErrorId);
        Assert.DoesNotContain("request r2", _events);
    }

    [Fact]
    public async Task DisposePutsAQueuedSentLineOnDisk()
    {
        string path = Path.Combine(_folder, "j.jsonl");
        using (var journal = Open(path))
        {
            var result = await journal.SubmitAsync("r1", Ok, shareSentFlush: true);
            Assert.True(result.AwaitsRecord);
            Assert.Equal(1, journal.Flushes);
        }

        var last = AosJournalJson.Read(File.ReadAllLines(path).Last());
        Assert.Equal("sent", last["state"]);
    }

    [Fact]
    public void SeveralInFlightSendWithoutTheBeginStepAndEachReportStillWaitsForItsSentLine()
    {
        string path = Path.Combine(_folder, "j.jsonl");
        var written = new List<string>();
        using var journal = Open(path);
        var rows = new AosRowPipeline<string>(4, stopOnError: false, wait: task => task.ContinueWith(_ => { }).Wait(), write: row =>
        {
            Assert.Equal(AosRowState.Sent, row.State);
            Assert.True(OnDisk(path, row.Item, "sent"), $"row {row.Item}'s result was written before its sent line was on disk");
            written.Add(row.Item);
        });
        var keys = Enumerable.Range(1, 8).Select(i => "r" + i).ToList();
        foreach (string key in keys)
        {
            // Waiting for each row's pending flush would give every start a flush of its own.
            rows.Start(key, () => throw new InvalidOperationException("the begin step is for one row at a time"),
                () => journal.SubmitAsync(key, Ok, shareSentFlush: true));
        }

        rows.Finish();
        Assert.Equal(keys, written);
    }
}
