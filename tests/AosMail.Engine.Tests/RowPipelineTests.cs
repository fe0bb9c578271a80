using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// The row pipeline of Send-AosMessage and Save-AosDraft (AosRowPipeline): rows in flight, their
/// states, output in input order, the buffer bound and the stop on the first error, with request
/// completion under the test's control.
/// </summary>
public sealed class RowPipelineTests
{
    /// <summary>Rows whose requests end when the test says: whenever the pipeline waits, the next request in the script ends.</summary>
    private sealed class Harness
    {
        private readonly Dictionary<string, TaskCompletionSource<AosSubmitResult>> _requests = new();
        private readonly Queue<(string Row, Exception? Error)> _script = new();

        public Harness(int inFlight, bool stopOnError = false)
        {
            Pipeline = new AosRowPipeline<string>(inFlight, stopOnError, Wait, Write);
        }

        public AosRowPipeline<string> Pipeline { get; }

        /// <summary>Each event in order: "start x", "end x", "write x State".</summary>
        public List<string> Events { get; } = new();

        /// <summary>The writer throws on an error row, as WriteError does under -ErrorAction Stop.</summary>
        public bool ThrowOnError { get; set; }

        public int MostHeld { get; private set; }

        /// <summary>The order in which requests end while the pipeline waits; an error makes the request fail with it.</summary>
        public void Ends(params string[] rows)
        {
            foreach (string row in rows) _script.Enqueue((row, null));
        }

        public void Fails(string row, Exception error) => _script.Enqueue((row, error));

        public AosRow<string> Start(string row) => Pipeline.Start(row, () =>
        {
            Events.Add("start " + row);
            var request = new TaskCompletionSource<AosSubmitResult>();
            _requests[row] = request;
            MostHeld = Math.Max(MostHeld, Pipeline.Held + 1);
            return request.Task;
        });

        public bool Started(string row) => _requests.ContainsKey(row);

        private void Wait(Task task)
        {
            while (!task.IsCompleted)
            {
                Assert.True(_script.Count > 0, "the pipeline waits for a request the script does not end: " + string.Join(", ", Events));
                var (row, error) = _script.Dequeue();
                Assert.True(_requests.ContainsKey(row), $"the script ends {row}, which has not started: " + string.Join(", ", Events));
                Events.Add("end " + row);
                // Continuations run synchronously here, so a WhenAny over this request has ended when this returns.
                if (error is null) _requests[row].SetResult(Ok());
                else _requests[row].SetException(error);
            }
        }

        private void Write(AosRow<string> row)
        {
            Events.Add($"write {row.Item} {row.State}");
            if (ThrowOnError && row.State.IsError()) throw new StopException();
        }

        public List<string> Written => Events.Where(e => e.StartsWith("write ", StringComparison.Ordinal)).Select(e => e.Substring(6)).ToList();
    }

    private sealed class StopException : Exception
    {
    }

    private static AosSubmitResult Ok() => new AosSubmitResult(AosSubmitKind.Send, DateTimeOffset.Now, TimeSpan.FromMilliseconds(1), "OK", 10, false);

    private static AosException Error(string id) => new AosException(id, AosErrorCategory.ConnectionError, "test " + id);

    [Fact]
    public void StartsTheNextRowAsSoonAsAnyRequestEnds()
    {
        var h = new Harness(inFlight: 3);
        // Row a is slow: the others end first, each freeing its place for the next row.
        h.Ends("b", "c", "d", "e", "f", "a", "g");
        foreach (string row in new[] { "a", "b", "c", "d", "e", "f", "g" })
        {
            h.Start(row);
        }

        // d started when b ended, e when c ended, f when d ended, g when e ended: none waited for a.
        Assert.Equal(new[] { "start a", "start b", "start c", "end b", "start d", "end c", "start e", "end d", "start f", "end e", "start g" },
            h.Events.Take(11));
        h.Pipeline.Finish();
        int aEnds = h.Events.IndexOf("end a");
        Assert.True(aEnds > h.Events.IndexOf("start g"));
        Assert.Equal(new[] { "a Sent", "b Sent", "c Sent", "d Sent", "e Sent", "f Sent", "g Sent" }, h.Written);
        // Nothing is written before a, which came first.
        Assert.True(h.Events.IndexOf("write a Sent") > aEnds);
    }

    [Fact]
    public void KeepsAtMostInFlightMinusOneRequestsBetweenRows()
    {
        var h = new Harness(inFlight: 1);
        h.Ends("a", "b");
        h.Start("a");
        Assert.Equal(new[] { "start a", "end a", "write a Sent" }, h.Events);
        h.Start("b");
        Assert.Equal(0, h.Pipeline.Sending);
        Assert.Equal(new[] { "a Sent", "b Sent" }, h.Written);

        var four = new Harness(inFlight: 4);
        four.Ends("c");
        foreach (string row in new[] { "a", "b", "c", "d" }) four.Start(row);
        Assert.Equal(3, four.Pipeline.Sending);
    }

    [Fact]
    public void WritesEveryRowInInputOrderWhateverItCameTo()
    {
        var h = new Harness(inFlight: 4);
        h.Fails("b", Error(AosErrorIds.ServerRejected));
        h.Fails("d", Error(AosErrorIds.OutcomeUnknown));
        h.Ends("a", "f");
        h.Fails("g", new OperationCanceledException());
        h.Start("a");
        h.Start("b");
        h.Pipeline.Refuse("c");
        h.Start("d");
        h.Pipeline.Skip("e");
        h.Start("f");
        h.Start("g");
        h.Pipeline.Finish();

        Assert.Equal(new[] { "a Sent", "b NotSent", "c RefusedBeforeWire", "d MaybeSent", "e Skipped", "f Sent", "g MaybeSent" }, h.Written);
        Assert.Equal("1, 6", h.Pipeline.WrittenRows(AosRowState.Sent, AosRowState.SentNotRecorded));
        Assert.Equal("4, 7", h.Pipeline.WrittenRows(AosRowState.MaybeSent));
        Assert.Equal("", h.Pipeline.WrittenRows(AosRowState.SentNotRecorded));
    }

    [Fact]
    public void StateComesFromHowTheRequestEnded()
    {
        Assert.Equal(AosRowState.Sent, AosRowStates.After(Task.FromResult(Ok())));
        Assert.Equal(AosRowState.SentNotRecorded, AosRowStates.After(Task.FromResult(Ok().WithNotRecorded(Error(AosErrorIds.JournalWriteFailed)))));
        Assert.Equal(AosRowState.NotSent, AosRowStates.After(Task.FromException<AosSubmitResult>(Error(AosErrorIds.ServerRejected))));
        Assert.Equal(AosRowState.NotSent, AosRowStates.After(Task.FromException<AosSubmitResult>(Error(AosErrorIds.JournalWriteFailed))));
        Assert.Equal(AosRowState.MaybeSent, AosRowStates.After(Task.FromException<AosSubmitResult>(Error(AosErrorIds.OutcomeUnknown))));
        Assert.Equal(AosRowState.MaybeSent, AosRowStates.After(Task.FromException<AosSubmitResult>(new InvalidOperationException())));
        Assert.Equal(AosRowState.MaybeSent, AosRowStates.After(Task.FromCanceled<AosSubmitResult>(new CancellationToken(true))));
        Assert.Equal(AosRowState.Sending, AosRowStates.After(new TaskCompletionSource<AosSubmitResult>().Task));

        Assert.True(AosRowState.SentNotRecorded.IsError() && AosRowState.SentNotRecorded.WasSent());
        Assert.True(AosRowState.MaybeSent.IsError() && AosRowState.MaybeSent.MayHaveBeenSent());
        Assert.False(AosRowState.Skipped.IsError() || AosRowState.Sent.IsError() || AosRowState.Sending.IsError());
    }

    [Fact]
    public void ARowInFlightIsNotCountedAsRefusedOrSentBeforeItEnds()
    {
        var h = new Harness(inFlight: 2);
        var row = h.Start("a");
        Assert.Equal(AosRowState.Sending, row.State);
        Assert.Null(row.Result);
        Assert.Null(row.Error);
        h.Ends("a");
        h.Pipeline.Finish();
        Assert.Equal(AosRowState.Sent, row.State);
        Assert.Equal("OK", row.Result!.ServerAnswer);
    }

    [Fact]
    public void AVerySlowRowHoldsAtMostTheBufferThenNewRowsWait()
    {
        var h = new Harness(inFlight: 2);
        int limit = h.Pipeline.BufferLimit;
        Assert.Equal(2 * AosRowPipeline<string>.BufferPerRequest, limit);
        var rows = Enumerable.Range(1, limit + 5).Select(i => "r" + i).ToList();
        // r1 never ends until the buffer is full; every other request ends as soon as it is waited for.
        h.Ends(rows.Skip(1).Take(limit - 1).ToArray());
        h.Ends("r1");
        h.Ends(rows.Skip(limit).ToArray());
        foreach (string row in rows)
        {
            h.Start(row);
            Assert.True(h.Pipeline.Held <= limit, $"{h.Pipeline.Held} rows held after {row}");
        }

        h.Pipeline.Finish();
        // The row after the buffer's worth started only once r1 had ended and the buffer was written.
        Assert.True(h.Events.IndexOf($"start r{limit + 1}") > h.Events.IndexOf("write r1 Sent"), string.Join(", ", h.Events));
        Assert.True(h.Events.IndexOf($"start r{limit}") < h.Events.IndexOf("end r1"));
        Assert.Equal(rows.Select(r => r + " Sent"), h.Written);
        Assert.True(h.MostHeld <= limit);
    }

    [Fact]
    public void UnderStopNoRowStartsOnceAnEarlierRowsRefusalIsKnown()
    {
        var h = new Harness(inFlight: 4, stopOnError: true) { ThrowOnError = true };
        h.Ends("a", "b");
        h.Start("a");
        h.Start("b");
        h.Pipeline.Refuse("c");
        // Row d would start here: the refusal of c is known, so a and b are waited for and written, then c ends the command.
        Assert.Throws<StopException>(() => h.Start("d"));
        Assert.False(h.Started("d"));
        Assert.Equal(new[] { "a Sent", "b Sent", "c RefusedBeforeWire" }, h.Written);
    }

    [Fact]
    public void UnderStopNoRowStartsOnceAnEarlierRequestsErrorIsKnown()
    {
        var h = new Harness(inFlight: 3, stopOnError: true) { ThrowOnError = true };
        h.Start("a");
        h.Start("b");
        // c's start leaves two in flight: it waits for one request, b, which fails while a is still in flight.
        h.Fails("b", Error(AosErrorIds.ServerRejected));
        h.Start("c");
        h.Ends("a", "c");
        Assert.Throws<StopException>(() => h.Start("d"));
        Assert.False(h.Started("d"));
        Assert.Equal(new[] { "a Sent", "b NotSent" }, h.Written);
        // c started before b's error was known: it is still held, and a stop names it.
        var unfinished = h.Pipeline.TakeUnfinished(includeInterrupted: false, TimeSpan.Zero);
        Assert.Equal(new[] { "c Sending" }, unfinished.Select(r => $"{r.Item} {r.State}"));
    }

    [Fact]
    public void WithoutStopRowsGoOnAfterAnError()
    {
        var h = new Harness(inFlight: 4);
        h.Start("a");
        h.Start("b");
        h.Pipeline.Refuse("c");
        h.Start("d");
        Assert.True(h.Started("d"));
        h.Ends("a", "b", "d");
        h.Pipeline.Finish();
        Assert.Equal(new[] { "a Sent", "b Sent", "c RefusedBeforeWire", "d Sent" }, h.Written);
    }

    [Fact]
    public void AStopHandsBackEveryUnwrittenRowWithItsStateThen()
    {
        var first = new TaskCompletionSource<AosSubmitResult>();
        var second = new TaskCompletionSource<AosSubmitResult>();
        var third = new TaskCompletionSource<AosSubmitResult>();
        // The writer throws as a stopping pipeline does.
        var stopped = new AosRowPipeline<string>(4, false, _ => { }, row => throw new StopException());
        stopped.Start("x", () => first.Task);
        stopped.Start("y", () => second.Task);
        stopped.Start("z", () => third.Task);
        first.SetResult(Ok());
        Assert.Throws<StopException>(() => stopped.Finish());
        second.SetResult(Ok());
        third.SetException(Error(AosErrorIds.OutcomeUnknown));

        var rows = stopped.TakeUnfinished(includeInterrupted: true, TimeSpan.FromSeconds(1));
        Assert.Equal(new[] { "x Sent", "y Sent", "z MaybeSent" }, rows.Select(r => $"{r.Item} {r.State}"));
        Assert.Equal(0, stopped.Held);
        Assert.Empty(stopped.TakeUnfinished(includeInterrupted: true, TimeSpan.Zero));
    }

    [Fact]
    public void TheInterruptedRowIsLeftOutWhenItsReportWasWritten()
    {
        var stopped = new AosRowPipeline<string>(2, true, _ => { }, row => throw new StopException());
        Assert.Throws<StopException>(() => stopped.Refuse("x"));
        Assert.Empty(stopped.TakeUnfinished(includeInterrupted: false, TimeSpan.Zero));

        var interrupted = new AosRowPipeline<string>(2, true, _ => { }, row => throw new StopException());
        Assert.Throws<StopException>(() => interrupted.Start("y", () => Task.FromResult(Ok())));
        Assert.Equal(new[] { "y" }, interrupted.TakeUnfinished(includeInterrupted: true, TimeSpan.Zero).Select(r => r.Item));
    }

    [Fact]
    public void ARequestThatThrowsAtOnceIsItsRowsError()
    {
        var p = new AosRowPipeline<string>(2, false, _ => { }, _ => { });
        var row = p.Start("a", () => throw Error(AosErrorIds.JournalWriteFailed));
        p.Finish();
        Assert.Equal(AosRowState.NotSent, row.State);
        Assert.Equal(AosErrorIds.JournalWriteFailed, ((AosException)row.Error!).ErrorId);
    }

    [Fact]
    public async Task AConfirmedSendTheJournalCannotRecordIsSentNotRecorded()
    {
        using var temp = new TempFiles();
        string path = Path.Combine(temp.Folder, "journal.jsonl");
        var server = new Uri("https://mail.example.org/cgi-bin/vo");
        var journal = AosSendJournal.Open(path, server, "demo@example.org", AosSendJournal.KeyByContent);
        // The server confirms; meanwhile the journal's file goes (as a full disk refuses the sent line).
        AosSubmitResult result = await journal.SubmitAsync("row-1", () =>
        {
            journal.Dispose();
            return Task.FromResult(Ok());
        });

        Assert.Equal("OK", result.ServerAnswer);
        Assert.NotNull(result.NotRecorded);
        Assert.Equal(AosErrorIds.JournalSentNotRecorded, result.NotRecorded!.ErrorId);
        Assert.Equal(AosErrorCategory.WriteError, result.NotRecorded.Category);
        Assert.Contains("confirmed", result.NotRecorded.Message);
        Assert.Contains("unknown outcome", result.NotRecorded.Message);
        Assert.Equal(AosRowState.SentNotRecorded, AosRowStates.After(Task.FromResult(result)));
        Assert.Equal(1, journal.Sent);

        // What the message promises: the pending line is on disk, so a rerun reports the row and does not send it.
        using var rerun = AosSendJournal.Open(path, server, "demo@example.org", AosSendJournal.KeyByContent);
        Assert.Equal(AosJournalVerdict.OutcomeUnknown, rerun.Admit("row-1", retryUnknown: false, out var earlier));
        Assert.Equal(AosJournalState.Pending, earlier!.State);
    }

    [Fact]
    public async Task TheJournalRecordsFailedAndUnknownAsTheRowStateSays()
    {
        using var temp = new TempFiles();
        string path = Path.Combine(temp.Folder, "journal.jsonl");
        var server = new Uri("https://mail.example.org/cgi-bin/vo");
        using (var journal = AosSendJournal.Open(path, server, "demo@example.org", AosSendJournal.KeyByContent))
        {
            await Assert.ThrowsAsync<AosException>(() => journal.SubmitAsync("refused", () => Task.FromException<AosSubmitResult>(Error(AosErrorIds.ServerRejected))));
            await Assert.ThrowsAsync<InvalidOperationException>(() => journal.SubmitAsync("odd", () => Task.FromException<AosSubmitResult>(new InvalidOperationException())));
            Assert.Equal(1, journal.Failed);
            Assert.Equal(1, journal.Unknown);
        }

        using var rerun = AosSendJournal.Open(path, server, "demo@example.org", AosSendJournal.KeyByContent);
        Assert.Equal(AosJournalState.Failed, rerun.Find("refused")!.State);
        Assert.Equal(AosJournalState.Unknown, rerun.Find("odd")!.State);
    }
}
