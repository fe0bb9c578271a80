using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// -ProxyCredential to a plain-http server: Basic from the first request, never left to the
/// handler's second try. (tests/Proxy.Tests.ps1 counts the bytes through a real proxy.)
/// </summary>
public class ProxyAuthenticationTests
{
    private static readonly NetworkCredential Credential = new NetworkCredential("proxy-user", "Pr0xy&Secret=1 %");
    private static readonly string Basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("proxy-user:Pr0xy&Secret=1 %"));

    private static AosConnectionSettings Settings(string server) => new AosConnectionSettings
    {
        Server = new Uri(server),
        Proxy = new Uri("http://127.0.0.1:3128"),
        ProxyCredential = Credential,
    };

    /// <summary>Answers each request with the next status (and challenge), recording the Proxy-Authorization it got.</summary>
    private sealed class ScriptedProxy : HttpClientHandler
    {
        private readonly Queue<(HttpStatusCode Status, string? Challenge)> _answers = new();

        public ScriptedProxy(params (HttpStatusCode, string?)[] answers)
        {
            foreach (var answer in answers) _answers.Enqueue(answer);
        }

        public List<(string? Authorization, bool? ExpectContinue)> Seen { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Seen.Add((request.Headers.ProxyAuthorization?.ToString(), request.Headers.ExpectContinue));
            var (status, challenge) = _answers.Dequeue();
            var response = new HttpResponseMessage(status) { RequestMessage = request };
            if (challenge != null) response.Headers.ProxyAuthenticate.ParseAdd(challenge);
            return Task.FromResult(response);
        }
    }

    private static Task<HttpResponseMessage> Post(HttpMessageHandler handler) =>
        new HttpMessageInvoker(handler).SendAsync(new HttpRequestMessage(HttpMethod.Post, "http://mail.example.com/st.login.mms") { Content = new StringContent("api=lc") }, CancellationToken.None);

    [Fact]
    public void OverHttpsTheHandlerAnswersTheTunnelsChallenge()
    {
        var handler = new HttpClientHandler();
        Assert.Same(handler, AosProxy.Apply(handler, Settings("https://mail.example.com/")));
        Assert.Same(Credential, ((WebProxy)handler.Proxy!).Credentials);
    }

    [Fact]
    public async Task EveryRequestCarriesBasicFromTheFirstTryAndA407IsNotAnsweredAgain()
    {
        var inner = new ScriptedProxy((HttpStatusCode.OK, null), (HttpStatusCode.ProxyAuthenticationRequired, "Basic realm=\"p\""), (HttpStatusCode.OK, null));
        var authentication = Assert.IsType<AosProxyAuthentication>(AosProxy.Apply(inner, Settings("http://mail.example.com/")));
        var proxy = (WebProxy)inner.Proxy!;
        Assert.Same(authentication, proxy.Credentials);
        // The handler gets nothing for Basic (a 407 to it comes back as it is), the credential for the other schemes.
        Assert.Null(proxy.Credentials!.GetCredential(proxy.Address!, "Basic"));
        Assert.Same(Credential, proxy.Credentials.GetCredential(proxy.Address!, "NTLM"));

        Assert.Equal(HttpStatusCode.OK, (await Post(authentication)).StatusCode);
        Assert.Equal(HttpStatusCode.ProxyAuthenticationRequired, (await Post(authentication)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Post(authentication)).StatusCode);
        Assert.Equal(new[] { "Basic " + Basic, "Basic " + Basic, "Basic " + Basic }, inner.Seen.ConvertAll(s => s.Authorization));
        Assert.True(authentication.SendsBasic);
    }

    [Fact]
    public async Task AProxyThatWantsAnotherSchemeGetsNoMoreBasicAndIsAskedBeforeEachBody()
    {
        var inner = new ScriptedProxy((HttpStatusCode.ProxyAuthenticationRequired, "Negotiate"), (HttpStatusCode.OK, null));
        var authentication = Assert.IsType<AosProxyAuthentication>(AosProxy.Apply(inner, Settings("http://mail.example.com/")));
        await Post(authentication);
        Assert.False(authentication.SendsBasic);
        Assert.Same(Credential, ((WebProxy)inner.Proxy!).Credentials!.GetCredential(new Uri("http://127.0.0.1:3128"), "Basic"));
        await Post(authentication);
        Assert.Equal(("Basic " + Basic, (bool?)null), inner.Seen[0]);
        Assert.Equal((null, (bool?)true), inner.Seen[1]);
    }

    [Fact]
    public void ProxyErrorsNameTheProxyAndWhatWasGiven()
    {
        var refused = AosProxy.Refused(new Uri("http://proxy.example.com:8080/"), AosProxy.RefusalReason(Settings("http://mail.example.com/")),
            new Uri("http://mail.example.com/"), AosErrorIds.LoginFailed, "the login", "HTTP 407 Proxy Authentication Required", "demo");
        Assert.Equal(AosErrorCategory.AuthenticationError, refused.Category);
        Assert.StartsWith("The proxy http://proxy.example.com:8080 refused the login to http://mail.example.com/ (HTTP 407", refused.Message);
        Assert.Contains("the proxy refused the credential given with -ProxyCredential", refused.Message);
        Assert.DoesNotContain(Credential.Password, refused.Message);

        var down = AosProxy.NotReached(new Uri("http://127.0.0.1:3128"), new Uri("http://mail.example.com/"), "st.login.mms", "Connection refused", 3, null);
        Assert.Equal(AosErrorIds.ConnectionFailed, down.ErrorId);
        Assert.StartsWith("Could not reach the proxy http://127.0.0.1:3128 on the way to http://mail.example.com/", down.Message);
    }
}
