using System;
using System.IO;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading;
using Xunit;
using static AosMail.Engine.Tests.TestSecrets;

namespace AosMail.Engine.Tests;

public class ConnectionTests
{
    private const string Password = "S3cret&Pass=w0rd%+";

    private static AosConnectionSettings Settings(string server, bool allowHttp = false) => new AosConnectionSettings
    {
        Server = new Uri(server, UriKind.RelativeOrAbsolute),
        UserName = "demo@sandbox.test",
        Password = Secure(Password),
        AllowUnencryptedAuthentication = allowHttp,
    };

    [Fact]
    public void HttpIsRefusedWithoutTheSwitch()
    {
        var error = Assert.Throws<AosException>(() => new AosConnection(Settings("http://127.0.0.1:8080/")));
        Assert.Equal(AosErrorIds.UnencryptedRefused, error.ErrorId);
        Assert.Equal(AosErrorCategory.SecurityError, error.Category);
        Assert.Equal(new Uri("http://127.0.0.1:8080/"), error.Target);
    }

    [Fact]
    public void HttpIsAllowedWithTheSwitch()
    {
        using var connection = new AosConnection(Settings("http://127.0.0.1:8080/", allowHttp: true));
        Assert.Equal("demo@sandbox.test at http://127.0.0.1:8080/", connection.ToString());
        Assert.False(connection.IsLoggedIn);
    }

    [Theory]
    [InlineData("/relative/path")]
    [InlineData("https://mail.example.com/?a=1")]
    [InlineData("https://mail.example.com/?")]
    [InlineData("https://mail.example.com/#frag")]
    [InlineData("ftp://mail.example.com/")]
    [InlineData("file:///tmp/x")]
    public void UnusableServersAreRefused(string server)
    {
        var error = Assert.Throws<AosException>(() => new AosConnection(Settings(server, allowHttp: true)));
        Assert.Equal(AosErrorIds.InvalidServer, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
        Assert.Equal(new Uri(server, UriKind.RelativeOrAbsolute), error.Target);
    }

    [Theory]
    [InlineData("https://mail.example.com", "https://mail.example.com")]
    [InlineData("https://mail.example.com/", "https://mail.example.com")]
    [InlineData("https://mail.example.com/cgi-bin/vo/", "https://mail.example.com/cgi-bin/vo")]
    [InlineData("http://127.0.0.1:5000/cgi-bin/vo", "http://127.0.0.1:5000/cgi-bin/vo")]
    public void TheBaseLosesItsTrailingSlash(string server, string expected) =>
        Assert.Equal(expected, AosConnection.CheckServer(new Uri(server), allowUnencrypted: true));

    [Theory]
    [InlineData("demo@sandbox.test", null, "demo", "sandbox.test")]
    [InlineData("a@b@c.org", null, "a@b", "c.org")]
    [InlineData("demo", "dom.org", "demo", "dom.org")]
    [InlineData("demo@x.org", "y.org", "demo", "y.org")]
    [InlineData("demo", null, "demo", null)]
    [InlineData("demo", "  ", "demo", null)]
    [InlineData("demo@", null, "demo", null)]
    public void UserNameAndHost(string userName, string? domain, string name, string? host)
    {
        AosConnection.SplitUserName(userName, domain, out var actualName, out var actualHost);
        Assert.Equal(name, actualName);
        Assert.Equal(host, actualHost);
    }

    [Fact]
    public void ToStringShowsNoSecret()
    {
        using var connection = new AosConnection(Settings("https://mail.example.com/cgi-bin/vo"));
        Assert.Equal("demo@sandbox.test at https://mail.example.com/cgi-bin/vo", connection.ToString());
        Assert.DoesNotContain(Password, connection.ToString());
        Assert.Equal("demo", connection.UserName);
        Assert.Equal("sandbox.test", connection.Domain);
    }

    [Fact]
    public void MissingCredentialIsReported()
    {
        var settings = Settings("https://mail.example.com/");
        settings.UserName = " ";
        Assert.Equal(AosErrorIds.NoCredential, Assert.Throws<AosException>(() => new AosConnection(settings)).ErrorId);
    }

    [Fact]
    public void EmptyPasswordIsReported()
    {
        var settings = Settings("https://mail.example.com/");
        settings.Password = new System.Security.SecureString();
        var error = Assert.Throws<AosException>(() => new AosConnection(settings));
        Assert.Equal(AosErrorIds.NoCredential, error.ErrorId);
        Assert.Contains("empty", error.Message);
    }

    [Fact]
    public void AProxyIsUsedForEveryRequestWithItsOwnCredential()
    {
        var settings = Settings("https://mail.example.com/");
        settings.Proxy = new Uri("http://127.0.0.1:3128");
        settings.ProxyCredential = new System.Net.NetworkCredential("proxy-user", "p");
        using var handler = new System.Net.Http.HttpClientHandler();
        Assert.Same(handler, AosProxy.Apply(handler, settings));
        var proxy = Assert.IsType<System.Net.WebProxy>(handler.Proxy);
        Assert.True(handler.UseProxy);
#if NET
        // .NET Framework (and Mono) never send loopback requests through a proxy: docs/windows-powershell.md.
        Assert.False(proxy.IsBypassed(new Uri("http://127.0.0.1:5080/st.login.mms")));
#endif
        Assert.Same(settings.ProxyCredential, proxy.Credentials);

        settings.Proxy = null;
        settings.ProxyCredential = null;
        using var systemDefault = new System.Net.Http.HttpClientHandler();
        Assert.Same(systemDefault, AosProxy.Apply(systemDefault, settings));
        Assert.Null(systemDefault.Proxy);
        Assert.True(systemDefault.UseProxy);
    }

    [Theory]
    [InlineData("http://user:S3cr3t@proxy.example.com:8080", AosErrorIds.InvalidProxy)]
    [InlineData("ftp://proxy.example.com", AosErrorIds.InvalidProxy)]
    [InlineData(null, AosErrorIds.ConflictingParameters)]
    public void ProxySettingsAreChecked(string? proxy, string errorId)
    {
        var settings = Settings("https://mail.example.com/");
        settings.Proxy = proxy == null ? null : new Uri(proxy);
        settings.ProxyUseDefaultCredentials = proxy == null;
        var error = Assert.Throws<AosException>(() => new AosConnection(settings));
        Assert.Equal(errorId, error.ErrorId);
        Assert.DoesNotContain("S3cr3t", error.Message);
        Assert.DoesNotContain("S3cr3t", error.Target?.ToString() ?? "");
    }

    [Theory]
    [InlineData(" ")]
    [InlineData("Dra\nft")]
    public void MailboxNamesAreChecked(string name)
    {
        var settings = Settings("https://mail.example.com/");
        settings.DraftMailbox = name;
        var error = Assert.Throws<AosException>(() => new AosConnection(settings));
        Assert.Equal(AosErrorIds.InvalidMailbox, error.ErrorId);
        Assert.Equal(name, error.Target);
    }

    [Fact]
    public async System.Threading.Tasks.Task TestWithoutASessionIsFalseWithoutNetwork()
    {
        // Port 9 on a TEST-NET address: any request would fail, so false proves no request was made.
        using var connection = new AosConnection(Settings("https://192.0.2.1:9/"));
        Assert.False(await connection.TestAsync(NullAosLog.Instance, CancellationToken.None));
    }

    [Fact]
    public async System.Threading.Tasks.Task DisposeDisposesThePasswordAndClosesTheConnection()
    {
        var settings = Settings("https://mail.example.com/");
        var connection = new AosConnection(settings);
        connection.Dispose();
        Assert.Throws<ObjectDisposedException>(() => settings.Password.Length);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => connection.TestAsync(NullAosLog.Instance, CancellationToken.None));
        connection.Dispose();
    }

    [Fact]
    public void LogDescribesFieldNamesAndBodySizeOnly()
    {
        using var password = Secure(Password);
        var fields = new[]
        {
            AosFormField.Plain("api", "lc"), AosFormField.Plain("mto", "a@x.org"), AosFormField.Plain("body", "Grüße"),
            AosFormField.Secured("pswd", password),
        };
        Assert.Equal("api, mto, body [7 bytes], pswd", AosConnection.DescribeFields(fields));
    }

    // ---- B15: which faults may be retried ----

    [Theory]
    [InlineData(SocketError.ConnectionRefused)]
    [InlineData(SocketError.HostNotFound)]
    [InlineData(SocketError.TryAgain)]
    [InlineData(SocketError.NoData)]
    [InlineData(SocketError.NetworkUnreachable)]
    [InlineData(SocketError.HostUnreachable)]
    public void ConnectFailuresDidNotReachTheServer(SocketError error) =>
        Assert.Equal(AosFaultKind.NotReached, AosTransportFault.Classify(new HttpRequestException("x", new SocketException((int)error))));

    [Theory]
    [InlineData(SocketError.ConnectionReset)]
    [InlineData(SocketError.ConnectionAborted)]
    [InlineData(SocketError.Shutdown)]
    [InlineData(SocketError.TimedOut)]
    public void BrokenConnectionsMayHaveReachedTheServer(SocketError error) =>
        Assert.Equal(AosFaultKind.MayHaveReached,
            AosTransportFault.Classify(new HttpRequestException("x", new IOException("y", new SocketException((int)error)))));

    [Fact]
    public void ResponseEndedPrematurelyMayHaveReachedTheServer() =>
        Assert.Equal(AosFaultKind.MayHaveReached, AosTransportFault.Classify(new HttpRequestException("x", new IOException("The response ended prematurely."))));

    [Fact]
    public void TlsFailuresAreRecognised() =>
        Assert.Equal(AosFaultKind.TlsFailure,
            AosTransportFault.Classify(new HttpRequestException("The SSL connection could not be established", new AuthenticationException("The remote certificate is invalid"))));

    [Fact]
    public void TheChainIsSearchedThroughAggregates() =>
        Assert.Equal(AosFaultKind.NotReached,
            AosTransportFault.Classify(new AggregateException(new InvalidOperationException("a"), new HttpRequestException("x", new SocketException((int)SocketError.ConnectionRefused)))));

    [Fact]
    public void TimeoutExceptionsAreTimeouts() =>
        Assert.Equal(AosFaultKind.Timeout, AosTransportFault.Classify(new HttpRequestException("x", new TimeoutException())));

    [Fact]
    public void DescribeMasksSessionIds() =>
        Assert.DoesNotContain("SID78889x23736345h80", AosTransportFault.Describe(new HttpRequestException("x", new IOException("failed for SID78889x23736345h80.sdmailact"))));
}
