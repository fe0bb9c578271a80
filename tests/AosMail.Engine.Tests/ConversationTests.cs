using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static AosMail.Engine.Tests.TestSecrets;

namespace AosMail.Engine.Tests;

/// <summary>
/// The connection's conversation (B3, B4, B13 to B15) against a scripted in-memory handler:
/// no sockets. Behaviour over real HTTP is proven by Pester against the sandbox.
/// </summary>
public class ConversationTests
{
    private const string Password = "S3cret&Pass=w0rd%+";
    private const string Sid1 = "SID78889x23736345h80";
    private const string Sid2 = "SIDnew00000000000002";

    /// <summary>Answers each request with the next scripted reply for its command.</summary>
    private sealed class FakeServer : HttpMessageHandler
    {
        private readonly Func<string, string, Task<HttpResponseMessage>> _answer;

        public FakeServer(Func<string, string, Task<HttpResponseMessage>> answer) => _answer = answer;

        public ConcurrentQueue<(string Path, string Body)> Requests { get; } = new();

        /// <summary>The token of the request being answered (the connection's linked timeout token).</summary>
        public static readonly AsyncLocal<CancellationToken> Token = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal(HttpMethod.Post, request.Method);
            Assert.Equal("application/x-www-form-urlencoded; charset=utf-8", request.Content!.Headers.ContentType!.ToString());
            var body = await request.Content.ReadAsStringAsync();
            Assert.Equal(body.Length, request.Content.Headers.ContentLength);
            var path = request.RequestUri!.AbsolutePath;
            Requests.Enqueue((path, body));
            cancellationToken.ThrowIfCancellationRequested();
            Token.Value = cancellationToken;
            var response = await _answer(path, body);
            response.RequestMessage = request;
            return response;
        }
    }

    private sealed class ListLog : IAosLog
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public bool IsVerboseEnabled => true;
        public bool IsDebugEnabled => true;
        public void Verbose(string message) => Lines.Enqueue("V " + message);
        public void Debug(string message) => Lines.Enqueue("D " + message);
    }

    private static HttpResponseMessage Text(string text, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(text, Encoding.UTF8, "text/plain") };

    private static Task<HttpResponseMessage> Answer(string text, HttpStatusCode status = HttpStatusCode.OK) => Task.FromResult(Text(text, status));

    private static (AosConnection Connection, FakeServer Server, List<TimeSpan> Delays) Connect(
        Func<string, string, Task<HttpResponseMessage>> answer, string server = "https://mail.example.com/cgi-bin/vo/", TimeSpan? timeout = null)
    {
        var fake = new FakeServer(answer);
        var settings = new AosConnectionSettings
        {
            Server = new Uri(server),
            UserName = "demo@sandbox.test",
            Password = Secure(Password),
            Timeout = timeout ?? TimeSpan.FromSeconds(100),
        };
        var connection = new AosConnection(settings, fake);
        var delays = new List<TimeSpan>();
        connection.Delay = (delay, token) =>
        {
            lock (delays)
            {
                delays.Add(delay);
            }

            return Task.CompletedTask;
        };
        return (connection, fake, delays);
    }

    private static AosPreparedSubmission Mail(AosSubmitKind kind = AosSubmitKind.Send)
    {
        var message = new AosMessage { Subject = "Hi", Body = "Secret body text" };
        message.To.Add("a@x.org");
        return AosFormBuilder.Prepare(message, kind);
    }

    private const string MailForm = "api=lc&mto=a%40x.org&msub=Hi&body=Secret+body+text&snd=checked";

    private static void AssertNoSecrets(ListLog log)
    {
        foreach (var line in log.Lines)
        {
            Assert.DoesNotContain("SID7", line);
            Assert.DoesNotContain("SIDnew", line);
            Assert.DoesNotContain("S3cret", line);
            Assert.DoesNotContain("Secret body", line);
        }
    }

    [Fact]
    public async Task LogsInThenSubmits()
    {
        var (connection, server, _) = Connect((path, body) => path.EndsWith("st.login.mms") ? Answer(Sid1 + "\r\n") : Answer("OK\n"));
        var log = new ListLog();
        var result = await connection.SubmitAsync(Mail(), log, CancellationToken.None);

        Assert.Equal(new[]
        {
            ("/cgi-bin/vo/st.login.mms", "api=lc&name=demo&host=sandbox.test&pswd=S3cret%26Pass%3Dw0rd%25%2B"),
            ("/cgi-bin/vo/" + Sid1 + ".sdmailact.mail.mms", MailForm),
        }, server.Requests.ToArray());
        Assert.Equal("OK", result.ServerAnswer);
        Assert.Equal(MailForm.Length, result.RequestBytes);
        Assert.False(result.SessionRenewed);
        Assert.Equal(AosSubmitKind.Send, result.Kind);
        Assert.True(connection.IsLoggedIn);
        Assert.True(connection.LastUsed >= connection.Created);
        Assert.Contains("V POST sdmailact.mail.mms: fields api, mto, msub, body [16 bytes], snd (" + MailForm.Length + " bytes).", log.Lines);
        Assert.Contains("V POST st.login.mms: fields api, name, host, pswd (66 bytes).", log.Lines);
        AssertNoSecrets(log);
    }

    [Fact]
    public async Task OkInAnyCaseIsSuccess()
    {
        var (connection, _, _) = Connect((path, body) => path.EndsWith("st.login.mms") ? Answer(Sid1) : Answer(" ok "));
        Assert.Equal("ok", (await connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None)).ServerAnswer);
    }

    [Fact]
    public async Task LoginWithoutHostSendsNameOnly()
    {
        var fake = new FakeServer((path, body) => Answer(Sid1));
        var settings = new AosConnectionSettings { Server = new Uri("https://mail.example.com"), UserName = "demo", Password = Secure("p w") };
        using var connection = new AosConnection(settings, fake);
        await connection.LoginAsync(NullAosLog.Instance, CancellationToken.None);
        Assert.Equal(("/st.login.mms", "api=lc&name=demo&pswd=p+w"), Assert.Single(fake.Requests));
    }

    [Theory]
    [InlineData("false\nInvalid password", "\"Invalid password\"")]
    [InlineData("<html><body><h1>Login</h1><form>...</form></body></html>", "\"Login\"")]
    [InlineData("SIDx", "\"SIDx\"")]
    [InlineData("", "an empty answer")]
    public async Task LoginFailureShowsTheServersText(string answer, string shown)
    {
        var (connection, _, _) = Connect((path, body) => Answer(answer));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.LoginAsync(NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.LoginFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.AuthenticationError, error.Category);
        Assert.Contains("(HTTP 200 OK): " + shown + ".", error.Message);
        Assert.DoesNotContain("S3cret", error.Message);
        Assert.False(connection.IsLoggedIn);
    }

    [Fact]
    public async Task LoginRedirectIsRefusedNamingTheLocation()
    {
        var (connection, server, _) = Connect((path, body) =>
        {
            var response = Text("", HttpStatusCode.Found);
            response.Headers.Location = new Uri("https://webmail.example.com/cgi-bin/vo/st.login.mms");
            return Task.FromResult(response);
        });
        var error = await Assert.ThrowsAsync<AosException>(() => connection.LoginAsync(NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ServerRejected, error.ErrorId);
        Assert.Equal(AosErrorCategory.ProtocolError, error.Category);
        Assert.Contains("HTTP 302 Found", error.Message);
        Assert.Contains("'https://webmail.example.com/cgi-bin/vo/st.login.mms'", error.Message);
        Assert.Contains("-Server", error.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task ExpiredSessionIsRenewedOnceAndTheSubmissionRepeated()
    {
        int logins = 0;
        var (connection, server, _) = Connect((path, body) =>
        {
            if (path.EndsWith("st.login.mms"))
            {
                return Answer(++logins == 1 ? Sid1 : Sid2);
            }

            if (path.EndsWith("sqVry.user.mms"))
            {
                return Answer(body == "sid=" + Sid1 ? "false" : "true");
            }

            return Answer(path.Contains(Sid2) ? "OK" : "false\nSession expired");
        });
        var log = new ListLog();
        var result = await connection.SubmitAsync(Mail(), log, CancellationToken.None);

        Assert.True(result.SessionRenewed);
        Assert.Equal(new[]
        {
            "/cgi-bin/vo/st.login.mms",
            "/cgi-bin/vo/" + Sid1 + ".sdmailact.mail.mms",
            "/cgi-bin/vo/sqVry.user.mms",
            "/cgi-bin/vo/st.login.mms",
            "/cgi-bin/vo/" + Sid2 + ".sdmailact.mail.mms",
        }, server.Requests.Select(r => r.Path).ToArray());
        Assert.Equal("sid=" + Sid1, server.Requests.ElementAt(2).Body);
        Assert.Contains(log.Lines, line => line.Contains("logging in again and repeating the send once"));
        AssertNoSecrets(log);
    }

    [Fact]
    public async Task ConcurrentRenewalsLogInOnlyOnce()
    {
        int logins = 0;
        var (connection, server, _) = Connect((path, body) =>
        {
            if (path.EndsWith("st.login.mms"))
            {
                return Answer(Interlocked.Increment(ref logins) == 1 ? Sid1 : Sid2);
            }

            if (path.EndsWith("sqVry.user.mms"))
            {
                return Answer(body == "sid=" + Sid1 ? "false" : "true");
            }

            return Answer(path.Contains(Sid2) ? "OK" : "false");
        });
        await connection.LoginAsync(NullAosLog.Instance, CancellationToken.None);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None))));
        Assert.Equal(2, logins);
        Assert.All(results, r => Assert.Equal("OK", r.ServerAnswer));
        Assert.Equal(8, server.Requests.Count(r => r.Path.Contains(Sid2)));
    }

    [Fact]
    public async Task RefusalWithALiveSessionIsServerRejected()
    {
        var (connection, server, _) = Connect((path, body) =>
            path.EndsWith("st.login.mms") ? Answer(Sid1) : path.EndsWith("sqVry.user.mms") ? Answer("true") : Answer("false\nMailbox quota exceeded"));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ServerRejected, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidOperation, error.Category);
        Assert.Equal("The server refused the send (HTTP 200 OK): \"Mailbox quota exceeded\".", error.Message);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task FailedReloginIsSessionExpired()
    {
        int logins = 0;
        var (connection, _, _) = Connect((path, body) =>
            path.EndsWith("st.login.mms") ? Answer(++logins == 1 ? Sid1 : "false\nAccount locked")
            : path.EndsWith("sqVry.user.mms") ? Answer("false") : Answer("false"));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.SessionExpired, error.ErrorId);
        Assert.Equal(AosErrorCategory.AuthenticationError, error.Category);
        Assert.Contains("Account locked", error.Message);
    }

    [Fact]
    public async Task ExpiredAgainAfterRenewalIsSessionExpired()
    {
        int logins = 0;
        var (connection, server, _) = Connect((path, body) =>
            path.EndsWith("st.login.mms") ? Answer(++logins == 1 ? Sid1 : Sid2)
            : path.EndsWith("sqVry.user.mms") ? Answer("false") : Answer("false\nexpired"));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.SessionExpired, error.ErrorId);
        Assert.Equal(2, server.Requests.Count(r => r.Path.EndsWith("sdmailact.mail.mms")));
        Assert.Equal(2, logins);
    }

    [Fact]
    public async Task RefusedAgainAfterRenewalIsServerRejected()
    {
        int logins = 0;
        var (connection, server, _) = Connect((path, body) =>
            path.EndsWith("st.login.mms") ? Answer(++logins == 1 ? Sid1 : Sid2)
            : path.EndsWith("sqVry.user.mms") ? Answer(body.Contains(Sid1) ? "false" : "true") : Answer("false\nRecipient unknown"));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ServerRejected, error.ErrorId);
        Assert.Contains("\"Recipient unknown\"", error.Message);
        Assert.Equal(2, server.Requests.Count(r => r.Path.EndsWith("sdmailact.mail.mms")));
    }

    [Fact]
    public async Task AWebPageInsteadOfOkLeavesTheOutcomeUnknown()
    {
        // B13: a 2xx answer to the whole request that is neither OK nor false: the server may have acted.
        var (connection, server, _) = Connect((path, body) => path.EndsWith("st.login.mms") ? Answer(Sid1) : Answer("<html><title>Mail sent</title></html>"));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(AosErrorCategory.ProtocolError, error.Category);
        Assert.Contains("expected OK, got \"Mail sent\"", error.Message);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task ClientErrorIsServerRejected()
    {
        var (connection, _, _) = Connect((path, body) => path.EndsWith("st.login.mms") ? Answer(Sid1) : Answer("false\nNo such command", HttpStatusCode.NotFound));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ServerRejected, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidOperation, error.Category);
        Assert.Equal("The server refused the send (HTTP 404 Not Found): \"No such command\".", error.Message);
    }

    [Theory]
    [InlineData(AosSubmitKind.Send, "message may or may not have been sent")]
    [InlineData(AosSubmitKind.SaveDraft, "draft may or may not have been saved")]
    public async Task ServerErrorOnSubmitIsOutcomeUnknownAndNeverRetried(AosSubmitKind kind, string phrase)
    {
        var (connection, server, delays) = Connect((path, body) => path.EndsWith("st.login.mms") ? Answer(Sid1) : Answer("boom", HttpStatusCode.BadGateway));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(kind), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(AosErrorCategory.ConnectionError, error.Category);
        Assert.Contains(phrase, error.Message);
        Assert.Contains("HTTP 502 Bad Gateway", error.Message);
        Assert.Contains("not retried", error.Message);
        Assert.Equal(1, server.Requests.Count(r => r.Path.EndsWith("sdmailact.mail.mms")));
        Assert.Empty(delays);
    }

    [Fact]
    public async Task ResetAfterSendingIsOutcomeUnknownAndNeverRetried()
    {
        var (connection, server, _) = Connect((path, body) => path.EndsWith("st.login.mms")
            ? Answer(Sid1)
            : throw new HttpRequestException("Error while copying content", new IOException("reset", new SocketException((int)SocketError.ConnectionReset))));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(AosErrorCategory.ConnectionError, error.Category);
        Assert.Equal(1, server.Requests.Count(r => r.Path.EndsWith("sdmailact.mail.mms")));
    }

    [Fact]
    public async Task TimeoutOnSubmitIsOutcomeUnknownOperationTimeout()
    {
        var (connection, server, _) = Connect(async (path, body) =>
        {
            if (path.EndsWith("st.login.mms"))
            {
                return Text(Sid1);
            }

            await Task.Delay(TimeSpan.FromSeconds(30), FakeServer.Token.Value);
            return Text("OK");
        }, timeout: TimeSpan.FromMilliseconds(200));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(AosErrorCategory.OperationTimeout, error.Category);
        Assert.Contains("no answer within 0.2 s", error.Message);
        Assert.Equal(1, server.Requests.Count(r => r.Path.EndsWith("sdmailact.mail.mms")));
    }

    [Fact]
    public async Task CallerCancellationPropagatesAsIs()
    {
        using var cancel = new CancellationTokenSource();
        var (connection, _, _) = Connect(async (path, body) =>
        {
            cancel.Cancel();
            await Task.Delay(TimeSpan.FromSeconds(30), cancel.Token);
            return Text(Sid1);
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.SubmitAsync(Mail(), NullAosLog.Instance, cancel.Token));
    }

    [Fact]
    public async Task ConnectFailuresAreRetriedTwiceWithBackoff()
    {
        int attempts = 0;
        var (connection, server, delays) = Connect((path, body) =>
            ++attempts <= 2 ? throw new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused))
            : path.EndsWith("st.login.mms") ? Answer(Sid1) : Answer("OK"));
        var log = new ListLog();
        var result = await connection.SubmitAsync(Mail(), log, CancellationToken.None);
        Assert.Equal("OK", result.ServerAnswer);
        Assert.Equal(new[] { TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1) }, delays);
        Assert.Equal(4, server.Requests.Count);
        Assert.Contains("V st.login.mms: nothing reached the server; retrying in 250 ms.", log.Lines);
    }

    [Fact]
    public async Task ConnectFailuresOnSubmitAreRetriedToo()
    {
        int submits = 0;
        var (connection, server, delays) = Connect((path, body) =>
            path.EndsWith("st.login.mms") ? Answer(Sid1)
            : ++submits <= 2 ? throw new HttpRequestException("Name", new SocketException((int)SocketError.HostNotFound)) : Answer("OK"));
        Assert.Equal("OK", (await connection.SubmitAsync(Mail(), NullAosLog.Instance, CancellationToken.None)).ServerAnswer);
        Assert.Equal(3, submits);
        Assert.Equal(2, delays.Count);
    }

    [Fact]
    public async Task ConnectFailuresGiveUpAfterThreeAttempts()
    {
        var (connection, server, delays) = Connect((path, body) => throw new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused)));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.LoginAsync(NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.ConnectionError, error.Category);
        Assert.Contains("tried 3 times", error.Message);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(2, delays.Count);
    }

    [Fact]
    public async Task TlsFailureIsASecurityErrorWithAFix()
    {
        var (connection, server, delays) = Connect((path, body) =>
            throw new HttpRequestException("The SSL connection could not be established", new AuthenticationException("The remote certificate is invalid")));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.LoginAsync(NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.SecurityError, error.Category);
        Assert.Contains("-SkipCertificateCheck", error.Message);
        Assert.Contains("trust it", error.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task LoginIsRetriedOnceAfterAServerError()
    {
        int attempts = 0;
        var (connection, server, delays) = Connect((path, body) => ++attempts == 1 ? Answer("busy", HttpStatusCode.ServiceUnavailable) : Answer(Sid1));
        await connection.LoginAsync(NullAosLog.Instance, CancellationToken.None);
        Assert.True(connection.IsLoggedIn);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(new[] { TimeSpan.FromMilliseconds(250) }, delays);
    }

    [Fact]
    public async Task LoginGivesUpAfterTwoServerErrors()
    {
        var (connection, server, _) = Connect((path, body) => Answer("busy", HttpStatusCode.ServiceUnavailable));
        var error = await Assert.ThrowsAsync<AosException>(() => connection.LoginAsync(NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Contains("HTTP 503 Service Unavailable", error.Message);
        Assert.Equal(2, server.Requests.Count);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE\r\n", true)]
    [InlineData("false", false)]
    [InlineData("<html>?</html>", false)]
    public async Task TestAsksSqVry(string answer, bool expected)
    {
        var (connection, server, _) = Connect((path, body) => path.EndsWith("st.login.mms") ? Answer(Sid1) : Answer(answer));
        await connection.LoginAsync(NullAosLog.Instance, CancellationToken.None);
        Assert.Equal(expected, await connection.TestAsync(NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(("/cgi-bin/vo/sqVry.user.mms", "sid=" + Sid1), server.Requests.Last());
    }

    [Fact]
    public async Task DisposeForgetsTheSession()
    {
        var (connection, _, _) = Connect((path, body) => Answer(Sid1));
        await connection.LoginAsync(NullAosLog.Instance, CancellationToken.None);
        connection.Dispose();
        Assert.False(connection.IsLoggedIn);
        Assert.DoesNotContain("SID", connection.ToString());
    }
}
