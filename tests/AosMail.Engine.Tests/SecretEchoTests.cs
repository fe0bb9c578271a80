using System;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static AosMail.Engine.Tests.TestSecrets;

namespace AosMail.Engine.Tests;

/// <summary>
/// Secrets never echoed: a password in the server address, a session id the server echoes in
/// another case, a password the server quotes back. Each is what a transcript, $Error or
/// Export-Clixml would otherwise keep.
/// </summary>
public class SecretEchoTests
{
    private const string Password = "S3cret&Pass=w0rd%+ x";

    [Theory]
    [InlineData("https://jane:S3cret@mail.example.com/", "https://mail.example.com:443")]
    [InlineData("https://jane:S3cret@mail.example.com:8443/cgi-bin/vo", "https://mail.example.com:8443")]
    [InlineData("http://S3cret@127.0.0.1:5080/", "http://127.0.0.1:5080")]
    [InlineData("jane:S3cret@mail.example.com", null)]
    public void AServerAddressWithUserInfoIsRefusedWithoutEchoingIt(string server, string? shown)
    {
        var error = Assert.Throws<AosException>(() => new AosConnection(new AosConnectionSettings
        {
            Server = new Uri(server, UriKind.RelativeOrAbsolute),
            UserName = "demo@sandbox.test",
            Password = Secure("pw"),
            AllowUnencryptedAuthentication = true,
        }));
        Assert.Equal(AosErrorIds.InvalidServer, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
        Assert.Equal(shown, error.Target);
        Assert.Equal(shown, AosConnection.ShownServer(new Uri(server, UriKind.RelativeOrAbsolute)));
        Assert.DoesNotContain("S3cret", error.Message);
        Assert.DoesNotContain("jane", error.Message);
        Assert.Contains("user name or password", error.Message);
    }

    [Fact]
    public void AnAddressWithoutUserInfoIsShownAsItIs()
    {
        var server = new Uri("https://mail.example.com/cgi-bin/vo");
        Assert.Same(server, AosConnection.ShownServer(server));
    }

    [Theory]
    [InlineData("false\nsession sid78889x23736345h80 expired", "session SID\u2026 expired")]
    [InlineData("false\nsession Sid78889X23736345H80 expired", "session SID\u2026 expired")]
    [InlineData("false\nsession SID78889x23736345h80 expired", "session SID\u2026 expired")]
    [InlineData("false\nwe considered sidewalks and sidecars", "we considered sidewalks and sidecars")]
    public void SessionIdsAreMaskedInAnyCase(string answer, string shown) =>
        Assert.Equal(shown, AosAnswer.ServerText(answer));

    [Theory]
    [InlineData("false\nwrong password S3cret&Pass=w0rd%+ x for demo")]
    [InlineData("false\nwrong password S3cret%26Pass%3Dw0rd%25%2B+x for demo")]
    [InlineData("false\nwrong password s3cret%26pass%3dw0rd%25%2b+x for demo")]
    [InlineData("false\nwrong password S3cret%26Pass%3Dw0rd%25%2B%20x for demo")]
    [InlineData("<html><body>wrong password S3cret&amp;Pass=w0rd%+ x for demo</body></html>")]
    public void APasswordTheServerQuotesIsMasked(string answer)
    {
        using var secret = Secure(Password);
        Assert.Equal("\"wrong password \u2026 for demo\"", AosAnswer.Quote(answer, secret));
    }

    /// <summary>Answers the login with a text that quotes the posted form's password.</summary>
    private sealed class EchoingServer : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var form = await request.Content!.ReadAsStringAsync();
            var posted = form.Substring(form.IndexOf("pswd=", StringComparison.Ordinal) + 5);
            return new HttpResponseMessage(HttpStatusCode.Forbidden)
            {
                Content = new StringContent($"Login refused: password {WebUtility.UrlDecode(posted)} ({posted}) is wrong"),
            };
        }
    }

    [Fact]
    public async Task ALoginAnswerThatQuotesThePasswordIsMasked()
    {
        using var connection = new AosConnection(new AosConnectionSettings
        {
            Server = new Uri("https://mail.example.com/"),
            UserName = "demo@sandbox.test",
            Password = Secure(Password),
        }, new EchoingServer());
        var error = await Assert.ThrowsAsync<AosException>(() => connection.LoginAsync(NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.LoginFailed, error.ErrorId);
        Assert.Contains("Login refused: password \u2026 (\u2026) is wrong", error.Message);
        Assert.DoesNotContain("S3cret", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
