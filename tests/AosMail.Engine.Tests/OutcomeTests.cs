using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static AosMail.Engine.Tests.TestSecrets;

namespace AosMail.Engine.Tests;

/// <summary>
/// B13, B15, B22: what a send's outcome is, by what the server can have done, against a fake server
/// over real HTTP (the sandbox does not misbehave these ways). A 2xx answer to the whole request
/// that is not OK or false may come from a server that acted: outcome unknown. An answer before
/// the body was complete is a refusal of a request the server never had: nothing was sent, and the
/// upload stops.
/// </summary>
public class OutcomeTests
{
    private static AosConnection Connect(FakeHttpServer server, TimeSpan? timeout = null) =>
        new(new AosConnectionSettings
        {
            Server = server.BaseUri,
            UserName = "demo@sandbox.test",
            Password = Secure("S3cret-pw"),
            AllowUnencryptedAuthentication = true,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        }) { Delay = (delay, token) => Task.CompletedTask };

    private static AosPreparedSubmission Mail(int bodyChars = 10)
    {
        var message = new AosMessage { Subject = "Hi", Body = new string('x', bodyChars) };
        message.To.Add("a@x.org");
        return AosFormBuilder.Prepare(message, AosSubmitKind.Send);
    }

    private static Task<AosException> Fails(AosConnection connection, AosPreparedSubmission submission) =>
        Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(submission, NullAosLog.Instance, CancellationToken.None));

    [Theory]
    [InlineData("<!DOCTYPE html><html><body><h1>Internal error</h1></body></html>")]
    [InlineData("OK but not quite")]
    [InlineData("")]
    public async Task A2xxAnswerAfterTheWholeRequestThatIsNotOkOrFalseLeavesTheOutcomeUnknown(string answer)
    {
        using var server = new FakeHttpServer(async request =>
        {
            await request.ReadBodyAsync();
            await request.AnswerAsync(200, answer);
        });
        using var connection = Connect(server);
        var error = await Fails(connection, Mail());
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(AosErrorCategory.ProtocolError, error.Category);
        Assert.Contains("may or may not have been sent", error.Message);
        Assert.Equal(1, server.Count("sdmailact.mail.mms"));
    }

    [Fact]
    public async Task AnEndlessChunkedAnswerIsCutAtTheLimitAndLeavesTheOutcomeUnknown()
    {
        long served = 0;
        using var server = new FakeHttpServer(async request =>
        {
            await request.ReadBodyAsync();
            await request.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
            var chunk = "4000\r\n" + new string('O', 0x4000) + "\r\n";
            while (true)
            {
                await request.WriteAsync(chunk);
                Interlocked.Add(ref served, 0x4000);
            }
        });
        using var connection = Connect(server);
        var watch = Stopwatch.StartNew();
        var error = await Fails(connection, Mail());
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(AosErrorCategory.ProtocolError, error.Category);
        Assert.Contains($"larger than {AosProtocol.AnswerMaxBytes} bytes", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        Assert.Equal(1, server.Count("sdmailact.mail.mms"));
    }

    [Fact]
    public async Task A413BeforeTheBodyIsARefusalAndTheUploadStops()
    {
        FakeRequest? refused = null;
        using var server = new FakeHttpServer(async request =>
        {
            refused = request;
            await request.AnswerAsync(413, "Request Entity Too Large");
            // A server that goes on reading what comes (slowly): whatever the client uploads arrives.
            while (request.BodyRead < request.ContentLength)
            {
                long before = request.BodyRead;
                await request.ReadBodyAsync(request.BodyRead + 64 * 1024, keep: false);
                if (request.BodyRead == before) break;
                await Task.Delay(20);
            }
        });
        using var connection = Connect(server);
        var submission = Mail(30_000_000);
        var watch = Stopwatch.StartNew();
        var error = await Fails(connection, submission);
        Assert.Equal(AosErrorIds.ServerRejected, error.ErrorId);
        Assert.Contains("HTTP 413", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.True(refused!.BodyRead < 1024 * 1024, $"{refused.BodyRead} of {refused.ContentLength} bytes were uploaded");
        Assert.Equal(1, server.Count("sdmailact.mail.mms"));
    }

    [Fact]
    public async Task A413ThatClosesTheConnectionMidBodyIsNothingSentNotUnknown()
    {
        using var server = new FakeHttpServer(async request =>
        {
            await request.ReadBodyAsync(100_000);
            await request.AnswerAsync(413, "Request Entity Too Large", close: true);
        });
        using var connection = Connect(server);
        var error = await Fails(connection, Mail(3_000_000));
        // Which comes first is a race inside the handler: the broken upload (the connection broke
        // before the request was sent in full) or the 413 read before it (an answer before the
        // body was complete). Both mean nothing was sent; never an unknown outcome, never a retry.
        Assert.True(error.ErrorId == AosErrorIds.ConnectionFailed ? error.Message.Contains("Nothing was sent") : error.ErrorId == AosErrorIds.ServerRejected && error.Message.Contains("HTTP 413"),
            error.ErrorId + ": " + error.Message);
        Assert.Equal(1, server.Count("sdmailact.mail.mms"));
    }

    [Fact]
    public async Task A5xxAfterTheWholeRequestStaysOutcomeUnknown()
    {
        using var server = new FakeHttpServer(async request =>
        {
            await request.ReadBodyAsync();
            await request.AnswerAsync(500, "Internal Server Error");
        });
        using var connection = Connect(server);
        var error = await Fails(connection, Mail());
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(1, server.Count("sdmailact.mail.mms"));
    }
}
