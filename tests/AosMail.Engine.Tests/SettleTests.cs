using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Security;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// Settling against the Outbox (docs/aos-protocol.md B25) with a server whose clock is not this
/// machine's, which the sandbox cannot play: a fake server that stores each send in its Outbox
/// (dated by its own clock), drops the answer, and lists the Outbox newest first with its own
/// HTTP Date header.
/// </summary>
public class SettleTests
{
    private sealed class Stored
    {
        public Stored(string id, DateTimeOffset time, string raw, string subject)
        {
            Id = id;
            Time = time;
            Raw = raw;
            Subject = subject;
        }

        public string Id { get; }
        public DateTimeOffset Time { get; }
        public string Raw { get; }
        public string Subject { get; }
    }

    /// <summary>A server <paramref name="skew"/> off this machine's clock, with <paramref name="outbox"/> already in its Outbox (oldest first).</summary>
    private static FakeHttpServer OutboxServer(TimeSpan skew, List<Stored> outbox) => new(async request =>
    {
        var now = DateTimeOffset.UtcNow + skew;
        var body = await request.ReadBodyAsync();
        var fields = body.Split('&').Select(p => p.Split('=')).ToDictionary(p => WebUtility.UrlDecode(p[0]), p => p.Length > 1 ? WebUtility.UrlDecode(p[1]) : "");
        switch (request.Command)
        {
            case "sdmailact.mail.mms":
                // Acts (the copy is stored, dated by the server's clock), then the answer is lost.
                var raw = $"From: demo@sandbox.test\r\nTo: {fields["mto"]}\r\nSubject: {fields["msub"]}\r\n\r\n{fields["body"]}";
                lock (outbox) outbox.Add(new Stored("m" + outbox.Count.ToString(CultureInfo.InvariantCulture), now, raw, fields["msub"]));
                request.Close();
                return;
            case "openbox.mbox.mms":
                List<Stored> listed;
                lock (outbox) listed = Enumerable.Reverse(outbox).ToList();
                var lines = string.Join("\r\n", listed.Select(m =>
                    $"{m.Id}\t{m.Subject}\tdemo@sandbox.test\t{m.Raw.Length}\t{m.Time.ToUnixTimeSeconds()}\texcerpt\ttext/plain\ta@x.org\tNew"));
                await Answer(request, now, lines);
                return;
            case "rdmail.mbox.mms":
                Stored one;
                lock (outbox) one = outbox.First(m => m.Id == fields["file"]);
                await Answer(request, now, one.Raw);
                return;
            default:
                await Answer(request, now, "false\r\nunknown command");
                return;
        }
    });

    private static Task Answer(FakeRequest request, DateTimeOffset now, string text) =>
        request.WriteAsync($"HTTP/1.1 200 OK\r\nDate: {now.ToString("r", CultureInfo.InvariantCulture)}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + $"Content-Length: {Encoding.UTF8.GetByteCount(text)}\r\n\r\n{text}");

    private static AosConnection Connect(FakeHttpServer server)
    {
        var password = new SecureString();
        foreach (char c in "S3cret-pw") password.AppendChar(c);
        return new AosConnection(new AosConnectionSettings
        {
            Server = server.BaseUri,
            UserName = "demo@sandbox.test",
            Password = password,
            AllowUnencryptedAuthentication = true,
            Timeout = TimeSpan.FromSeconds(30),
        }) { Delay = (delay, token) => Task.CompletedTask };
    }

    private static AosPreparedSubmission Mail(string subject)
    {
        var message = new AosMessage { Subject = subject, Body = "Dear reader, this is the notice.", KeepCopy = true };
        message.To.Add("a@x.org");
        return AosFormBuilder.Prepare(message, AosSubmitKind.Send);
    }

    [Theory]
    [InlineData(-3600)]
    [InlineData(0)]
    [InlineData(3600)]
    public async Task ALostAnswerIsSettledByItsCopyDatedByTheServersClock(int skewSeconds)
    {
        var outbox = new List<Stored>();
        using var server = OutboxServer(TimeSpan.FromSeconds(skewSeconds), outbox);
        using var connection = Connect(server);
        var settler = new AosOutboxSettler(connection, resendNotSent: false);

        var result = await settler.SendAsync(Mail("Notice"), NullAosLog.Instance, null, CancellationToken.None);

        Assert.Equal("m0", result.SettledAs);
        Assert.Equal("settled: found in the Outbox as m0", result.ServerAnswer);
        // Its time is the copy's, brought back onto this machine's clock.
        Assert.InRange((DateTimeOffset.UtcNow - result.Submitted).TotalSeconds, -2, 30);
        Assert.Equal(1, server.Count("sdmailact.mail.mms"));
        Assert.Equal(1, server.Count("openbox.mbox.mms"));
        Assert.Equal(1, server.Count("rdmail.mbox.mms"));
    }

    [Fact]
    public async Task AnIdenticalCopyFromBeforeTheAttemptIsNoCandidateEvenOnAServerAnHourAhead()
    {
        // The same message sent ten minutes before, by the server's clock: a copy of another send.
        var skew = TimeSpan.FromHours(1);
        var submission = Mail("Notice");
        var outbox = new List<Stored>();
        using var server = OutboxServer(skew, outbox);
        var raw = "From: demo@sandbox.test\r\nTo: a@x.org\r\nSubject: Notice\r\n\r\nDear reader, this is the notice.";
        outbox.Add(new Stored("old", DateTimeOffset.UtcNow + skew - TimeSpan.FromMinutes(10), raw, "Notice"));
        using var connection = Connect(server);
        var settler = new AosOutboxSettler(connection, resendNotSent: false);

        var result = await settler.SendAsync(submission, NullAosLog.Instance, null, CancellationToken.None);

        Assert.Equal("m1", result.SettledAs);
        Assert.Equal(1, server.Count("rdmail.mbox.mms"));
    }

    [Fact]
    public async Task NoCopyAfterEveryLookIsNotSentAndNothingIsSentAgain()
    {
        var outbox = new List<Stored>();
        using var server = new FakeHttpServer(async request =>
        {
            await request.ReadBodyAsync();
            if (request.Command == "sdmailact.mail.mms")
            {
                // Refused before acting, with a status that leaves the outcome unknown.
                await request.AnswerAsync(503, "busy");
                return;
            }

            await Answer(request, DateTimeOffset.UtcNow, "");
        });
        using var connection = Connect(server);
        var settler = new AosOutboxSettler(connection, resendNotSent: false);

        var error = await Assert.ThrowsAsync<AosException>(() => settler.SendAsync(Mail("Notice"), NullAosLog.Instance, null, CancellationToken.None));

        Assert.Equal(AosErrorIds.NotSent, error.ErrorId);
        Assert.Contains("no copy of it is in 'Outbox' after 4 looks over 7 s", error.Message);
        Assert.Equal(1, server.Count("sdmailact.mail.mms"));
        Assert.Equal(AosProtocol.SettleLookDelays.Count, server.Count("openbox.mbox.mms"));
    }
}
