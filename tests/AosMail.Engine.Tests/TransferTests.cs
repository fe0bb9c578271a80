using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static AosMail.Engine.Tests.TestSecrets;

namespace AosMail.Engine.Tests;

/// <summary>
/// How bytes move (docs/aos-protocol.md B22, B23) against a scripted handler that reads the
/// request body as a server would, at its own pace: timeouts that mean "no progress", bounded
/// answers, streamed rdmail answers. Over real HTTP the same is proven by Pester.
/// </summary>
public class TransferTests
{
    private const string Sid = "SID78889x23736345h80";

    /// <summary>Answers login itself; every other request goes to the script.</summary>
    private sealed class Server : HttpMessageHandler
    {
        private readonly Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> _answer;

        public Server(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer) => _answer = answer;

        public ConcurrentQueue<string> Paths { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            Paths.Enqueue(path);
            if (path.EndsWith("st.login.mms"))
            {
                await request.Content!.CopyToAsync(Stream.Null, cancellationToken);
                return Text(Sid);
            }

            return await _answer(request, cancellationToken);
        }
    }

    /// <summary>Where the scripted server reads a request body: each write takes <c>delay</c>; after <c>stallAfter</c> bytes, writes never finish.</summary>
    private sealed class ReadingSink(TimeSpan delay, long stallAfter = long.MaxValue) : Stream
    {
        public long Received;

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (Received >= stallAfter)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken);
            }

            Received += count;
        }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Received;
        public override long Position { get => Received; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>
    /// An answer body made on the fly: <c>total</c> bytes (<c>fill</c> after <c>head</c>), <c>pause</c> before each piece,
    /// an IOException after <c>failAfter</c> bytes, nothing more (ever) after <c>stallAfter</c> bytes.
    /// </summary>
    private sealed class MadeStream(byte[] head, long total, byte fill, int piece = 64 * 1024, TimeSpan pause = default,
        long failAfter = long.MaxValue, long stallAfter = long.MaxValue) : Stream
    {
        public long Served;

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (Served >= total)
            {
                return 0;
            }

            if (Served >= failAfter)
            {
                throw new IOException("The connection was reset (scripted).");
            }

            if (Served >= stallAfter)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, cancellationToken);
            }

            int n = (int)Math.Min(Math.Min(count, piece), total - Served);
            for (int i = 0; i < n; i++)
            {
                long at = Served + i;
                buffer[offset + i] = at < head.Length ? head[at] : fill;
            }

            Served += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static HttpResponseMessage Text(string text) =>
        new(HttpStatusCode.OK) { Content = new StringContent(text, Encoding.UTF8, "text/plain") };

    /// <summary>A body of unknown length (chunked): StreamContent over a stream that cannot tell its length.</summary>
    private static HttpResponseMessage Streamed(Stream body, long? length = null)
    {
        var content = new StreamContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        content.Headers.ContentLength = length;
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    private static (AosConnection Connection, Server Server) Connect(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer, TimeSpan timeout)
    {
        var server = new Server(answer);
        var settings = new AosConnectionSettings
        {
            Server = new Uri("https://mail.example.com/"),
            UserName = "demo@sandbox.test",
            Password = Secure("pw"),
            Timeout = timeout,
        };
        var connection = new AosConnection(settings, server) { Delay = (delay, token) => Task.CompletedTask };
        return (connection, server);
    }

    private static AosPreparedSubmission Mail(int bodyChars = 10)
    {
        var message = new AosMessage { Subject = "Hi", Body = new string('x', bodyChars) };
        message.To.Add("a@x.org");
        return AosFormBuilder.Prepare(message, AosSubmitKind.Send);
    }

    private static int Count(Server server, string command) => server.Paths.Count(p => p.EndsWith(command));

    // ---- B22: timeouts mean no progress ----

    [Fact]
    public void TheTimerExpiresOnlyAfterATimeoutWithoutProgress()
    {
        using var timer = new AosNoProgressTimer(TimeSpan.FromMilliseconds(400));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < 1200)
        {
            timer.Progress();
            Thread.Sleep(50);
        }

        Assert.False(timer.Expired);
        Assert.True(timer.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(10)));
        Assert.True(timer.Expired);
    }

    [Fact]
    public void ATimerMadeStoppedRunsOnlyFromStart()
    {
        using var timer = new AosNoProgressTimer(TimeSpan.FromMilliseconds(200), start: false);
        Assert.False(timer.Token.WaitHandle.WaitOne(600), "the clock had not started");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        timer.Start();
        Assert.True(timer.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(10)));
        Assert.True(watch.ElapsedMilliseconds >= 190, $"expired {watch.ElapsedMilliseconds} ms after Start");
    }

    [Fact]
    public async Task MeasuringABodyLongerThanTheTimeoutIsNotAStalledConnection()
    {
        // The measuring pass reads the attachment slowly (a loaded machine, a slow disk): 1.6 s
        // against a 0.5 s timeout; once the request reached the server, reads are fast. It is local work before the wire; the send still goes, once.
        var content = new SlowFirstPassStream(new byte[64 * 1024], TimeSpan.FromMilliseconds(100));
        var message = new AosMessage { Subject = "Hi", Body = "x" };
        message.To.Add("a@x.org");
        message.Attachments.Add(AosAttachmentSource.FromStream("a.bin", content));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        var (connection, server) = Connect(async (request, token) =>
        {
            content.Slow = false;
            await request.Content!.CopyToAsync(Stream.Null, token);
            return Text("OK");
        }, TimeSpan.FromMilliseconds(500));
        var result = await connection.SubmitAsync(prepared, NullAosLog.Instance, CancellationToken.None);
        Assert.Equal("OK", result.ServerAnswer);
        Assert.True(content.SlowReads >= 8, $"the measuring pass read slowly {content.SlowReads} times");
        Assert.Equal(1, Count(server, "sdmailact.mail.mms"));
    }

    /// <summary>A stream that is slow until the request reached the server (the measuring pass), fast after.</summary>
    private sealed class SlowFirstPassStream : MemoryStream
    {
        private readonly TimeSpan _delay;

        public SlowFirstPassStream(byte[] content, TimeSpan delay) : base(content, writable: false) => _delay = delay;

        public volatile bool Slow = true;

        public int SlowReads { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Slow)
            {
                SlowReads++;
                Thread.Sleep(_delay);
            }

            return base.Read(buffer, offset, Math.Min(count, 4096));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer, offset, count));
    }

    [Fact]
    public void AnInfiniteTimerNeverExpires()
    {
        using var timer = new AosNoProgressTimer(Timeout.InfiniteTimeSpan);
        Assert.False(timer.Token.WaitHandle.WaitOne(200));
    }

    [Fact]
    public async Task AnUploadLongerThanTheTimeoutSucceedsWhileBytesMove()
    {
        ReadingSink? sink = null;
        var (connection, server) = Connect(async (request, token) =>
        {
            // About 14 writes of 16 KB, 150 ms each: two seconds in all, never a second without progress.
            sink = new ReadingSink(TimeSpan.FromMilliseconds(150));
            await request.Content!.CopyToAsync(sink, token);
            return Text("OK");
        }, TimeSpan.FromSeconds(1));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = await connection.SubmitAsync(Mail(220_000), NullAosLog.Instance, CancellationToken.None);
        Assert.Equal("OK", result.ServerAnswer);
        Assert.True(watch.Elapsed > TimeSpan.FromSeconds(1.5), $"the upload took {watch.Elapsed}");
        Assert.Equal(result.RequestBytes, sink!.Received);
        Assert.Equal(1, Count(server, "sdmailact.mail.mms"));
    }

    [Fact]
    public async Task AStalledUploadTimesOutAsNothingSent()
    {
        var (connection, server) = Connect(async (request, token) =>
        {
            await request.Content!.CopyToAsync(new ReadingSink(TimeSpan.Zero, stallAfter: 40_000), token);
            return Text("OK");
        }, TimeSpan.FromMilliseconds(500));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(220_000), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.OperationTimeout, error.Category);
        Assert.Matches("the upload stalled, no bytes moved for 0.5 s \\(\\d+ of \\d+ bytes sent\\)", error.Message);
        Assert.Contains("Nothing was sent.", error.Message);
        Assert.Equal(1, Count(server, "sdmailact.mail.mms"));
    }

    [Fact]
    public async Task NoConnectionInTimeIsNothingSent()
    {
        var (connection, server) = Connect(async (request, token) =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return Text("OK");
        }, TimeSpan.FromMilliseconds(300));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.OperationTimeout, error.Category);
        Assert.Contains("no connection within 0.3 s", error.Message);
        Assert.Equal(1, Count(server, "sdmailact.mail.mms"));
    }

    [Fact]
    public async Task NoAnswerAfterACompleteUploadIsOutcomeUnknown()
    {
        var (connection, _) = Connect(async (request, token) =>
        {
            await request.Content!.CopyToAsync(Stream.Null, token);
            await Task.Delay(Timeout.Infinite, token);
            return Text("OK");
        }, TimeSpan.FromMilliseconds(300));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(AosErrorCategory.OperationTimeout, error.Category);
        Assert.Contains("no answer within 0.3 s", error.Message);
    }

    [Fact]
    public async Task ATricklingAnswerIsCutAtTheTimeout()
    {
        MadeStream? trickle = null;
        var (connection, _) = Connect(async (request, token) =>
        {
            await request.Content!.CopyToAsync(Stream.Null, token);
            trickle = new MadeStream(Encoding.ASCII.GetBytes("OK"), 100, (byte)' ', piece: 1, pause: TimeSpan.FromMilliseconds(100));
            return Streamed(trickle);
        }, TimeSpan.FromMilliseconds(600));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Contains("the answer did not arrive in full within 0.6 s", error.Message);
        Assert.True(trickle!.Served < 100, $"{trickle.Served} bytes were read");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"cut after {watch.Elapsed}");
    }

    // ---- B23: bounded answers ----

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnOversizedSendAnswerLeavesTheOutcomeUnknownAndIsNotReadWhole(bool withLength)
    {
        MadeStream? answer = null;
        long total = 200L * 1024 * 1024;
        var (connection, server) = Connect(async (request, token) =>
        {
            await request.Content!.CopyToAsync(Stream.Null, token);
            answer = new MadeStream(Encoding.ASCII.GetBytes("OK"), total, (byte)' ');
            return Streamed(answer, withLength ? total : null);
        }, TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        // B13, B23: the server had the whole request and answered 200: it may have acted.
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(AosErrorCategory.ProtocolError, error.Category);
        Assert.Contains($"larger than {AosProtocol.AnswerMaxBytes} bytes", error.Message);
        Assert.True(answer!.Served <= AosProtocol.AnswerMaxBytes + 64 * 1024, $"{answer.Served} bytes were read");
        Assert.Equal(1, Count(server, "sdmailact.mail.mms"));
    }

    [Fact]
    public async Task AListingMayBeLargerThanASendAnswer()
    {
        var line = "1.{0:D6}\tSubject {0}\tfrom@x.org\t123\t1700000000\texcerpt " + new string('e', 150) + "\ttext/plain\tto@x.org\tNew\r\n";
        var listing = string.Concat(Enumerable.Range(0, 10_000).Select(i => string.Format(line, i)));
        Assert.True(Encoding.UTF8.GetByteCount(listing) > 2 * AosProtocol.AnswerMaxBytes);
        var (connection, _) = Connect(async (request, token) =>
        {
            await request.Content!.CopyToAsync(Stream.Null, token);
            return Streamed(new MemoryStream(Encoding.UTF8.GetBytes(listing)));
        }, TimeSpan.FromSeconds(30));
        var result = await connection.ListMessagesAsync("Inbox", 0, NullAosLog.Instance, CancellationToken.None);
        Assert.Equal(10_000, result.Messages.Count);
        Assert.Empty(result.Problems);
    }

    [Fact]
    public async Task AnOversizedListingIsRefused()
    {
        MadeStream? answer = null;
        var (connection, _) = Connect(async (request, token) =>
        {
            await request.Content!.CopyToAsync(Stream.Null, token);
            answer = new MadeStream([], AosProtocol.ListingAnswerMaxBytes * 2, (byte)'a');
            return Streamed(answer);
        }, TimeSpan.FromSeconds(60));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.ListMessagesAsync("Inbox", 0, NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ServerRejected, error.ErrorId);
        Assert.Equal(AosErrorCategory.ProtocolError, error.Category);
        Assert.True(answer!.Served <= AosProtocol.ListingAnswerMaxBytes + 64 * 1024);
    }

    [Fact]
    public async Task AListingJustOverTheDocumentedSixtyFourMegabytesIsRefused()
    {
        var (connection, _) = Connect(async (request, token) =>
        {
            await request.Content!.CopyToAsync(Stream.Null, token);
            return Streamed(new MadeStream([], 65L * 1024 * 1024, (byte)'a'));
        }, TimeSpan.FromSeconds(60));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.ListMessagesAsync("Inbox", 0, NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ServerRejected, error.ErrorId);
        Assert.Contains("larger than 67108864 bytes", error.Message);
    }

    // ---- B23: rdmail streams ----

    private static byte[] Message(int bodyBytes)
    {
        var head = Encoding.ASCII.GetBytes("From: a@x.org\r\nTo: b@x.org\r\nSubject: streamed\r\nContent-Type: application/octet-stream\r\n\r\n");
        var body = new byte[bodyBytes];
        new Random(7).NextBytes(body);
        return head.Concat(body).ToArray();
    }

    [Fact]
    public async Task ASavedMessageIsByteIdenticalAndComesFromOneRequest()
    {
        var raw = Message(3_000_000);
        var (connection, server) = Connect((request, token) => Task.FromResult(Streamed(new MemoryStream(raw), raw.Length)), TimeSpan.FromSeconds(30));
        using var temp = new TempFiles();
        var folder = temp.Folder;
        var path = Path.Combine(folder, "m.eml");
        var written = await connection.SaveMessageAsync("Inbox", "1.000", path, false, NullAosLog.Instance, CancellationToken.None);
        Assert.Equal(raw.Length, written);
        Assert.Equal(SHA256.HashData(raw), SHA256.HashData(File.ReadAllBytes(path)));
        Assert.Single(Directory.GetFiles(folder));
        Assert.Equal(1, Count(server, "rdmail.mbox.mms"));
    }

    [Fact]
    public async Task AReadCutInTransitIsRepeatedFromTheStart()
    {
        var raw = Message(500_000);
        int attempts = 0;
        var (connection, server) = Connect((request, token) =>
        {
            var failAfter = Interlocked.Increment(ref attempts) == 1 ? 200_000 : long.MaxValue;
            return Task.FromResult(Streamed(new MadeStream(raw, raw.Length, 0, failAfter: failAfter), raw.Length));
        }, TimeSpan.FromSeconds(30));
        var bytes = await connection.ReadMessageAsync("Inbox", "1.000", NullAosLog.Instance, CancellationToken.None);
        Assert.Equal(raw, bytes);
        Assert.Equal(2, Count(server, "rdmail.mbox.mms"));
    }

    [Fact]
    public async Task AReadThatFailsTwiceLeavesNoFile()
    {
        var raw = Message(500_000);
        var (connection, server) = Connect((request, token) =>
            Task.FromResult(Streamed(new MadeStream(raw, raw.Length, 0, failAfter: 200_000), raw.Length)), TimeSpan.FromSeconds(30));
        using var temp = new TempFiles();
        var folder = temp.Folder;
        var error = await Assert.ThrowsAsync<AosException>(() =>
            connection.SaveMessageAsync("Inbox", "1.000", Path.Combine(folder, "m.eml"), false, NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Empty(Directory.GetFiles(folder));
        Assert.Equal(2, Count(server, "rdmail.mbox.mms"));
    }

    [Theory]
    [InlineData("<!DOCTYPE html><html><body>Please log in</body></html>", "web page")]
    [InlineData("  <HTML><title>Proxy error</title></HTML>", "web page")]
    [InlineData("", "empty body")]
    public async Task AReadAnswerThatIsNoMessageIsRefusedBeforeAnythingIsWritten(string answer, string expected)
    {
        var (connection, _) = Connect((request, token) => Task.FromResult(Text(answer)), TimeSpan.FromSeconds(30));
        using var temp = new TempFiles();
        var folder = temp.Folder;
        var error = await Assert.ThrowsAsync<AosException>(() =>
            connection.SaveMessageAsync("Inbox", "1.000", Path.Combine(folder, "m.eml"), false, NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ServerRejected, error.ErrorId);
        Assert.Equal(AosErrorCategory.ProtocolError, error.Category);
        Assert.Contains(expected, error.Message);
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public async Task TheReadersOwnFailureIsThrownAsItIsAndNotRetried()
    {
        var raw = Message(100_000);
        var (connection, server) = Connect((request, token) => Task.FromResult(Streamed(new MemoryStream(raw), raw.Length)), TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<IOException>(() => connection.ReadMessageAsync("Inbox", "1.000",
            (body, length, token) => throw new IOException("No space left on device (scripted)."), NullAosLog.Instance, CancellationToken.None));
        Assert.Contains("No space left", error.Message);
        Assert.Equal(1, Count(server, "rdmail.mbox.mms"));
    }

    [Fact]
    public async Task AStalledMessageTimesOutWhileAMovingOneDoesNot()
    {
        var raw = Message(400_000);
        // 400 KB in 16 KB pieces 100 ms apart: about 2.5 s, more than the 1 s timeout.
        var (connection, _) = Connect((request, token) =>
            Task.FromResult(Streamed(new MadeStream(raw, raw.Length, 0, piece: 16 * 1024, pause: TimeSpan.FromMilliseconds(100)), raw.Length)), TimeSpan.FromSeconds(1));
        Assert.Equal(raw, await connection.ReadMessageAsync("Inbox", "1.000", NullAosLog.Instance, CancellationToken.None));

        var (stalled, server) = Connect((request, token) =>
            Task.FromResult(Streamed(new MadeStream(raw, raw.Length, 0, stallAfter: 100_000), raw.Length)), TimeSpan.FromMilliseconds(500));
        var error = await Assert.ThrowsAsync<AosException>(() => stalled.ReadMessageAsync("Inbox", "1.000", NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.OperationTimeout, error.Category);
        Assert.Contains("the answer stalled, nothing arrived for 0.5 s", error.Message);
        Assert.Equal(2, Count(server, "rdmail.mbox.mms"));
    }

    [Fact]
    public async Task AParsedLargeMessageLeavesNoTemporaryFile()
    {
        var raw = Message(6_000_000);
        var before = Directory.GetFiles(Path.GetTempPath(), "AosMail-*.eml.tmp").Length;
        var (connection, _) = Connect((request, token) => Task.FromResult(Streamed(new MemoryStream(raw), null)), TimeSpan.FromSeconds(30));
        var message = await connection.ReadParsedMessageAsync("Inbox", "1.000", NullAosLog.Instance, CancellationToken.None);
        Assert.Equal("streamed", message.Subject);
        Assert.Equal(raw.Length, message.Size);
        Assert.Equal(before, Directory.GetFiles(Path.GetTempPath(), "AosMail-*.eml.tmp").Length);
    }
}
