using System.Net;
using System.Net.Http;
using Xunit;

// ServicePointManager is what .NET Framework's handler reads; .NET Core marks it obsolete.
#pragma warning disable SYSLIB0014

namespace AosMail.Engine.Tests;

/// <summary>What every connection's handler gets, whatever the runtime (Windows PowerShell's is HttpWebRequest underneath).</summary>
public class HttpHandlerFactoryTests
{
    private const SecurityProtocolType SystemDefault = 0;
    private const SecurityProtocolType Tls13 = (SecurityProtocolType)12288;
#pragma warning disable CS0618, SYSLIB0039 // Ssl3, Tls and Tls11 are obsolete: they are what old processes offer
    private const SecurityProtocolType PowerShellExeDefault = SecurityProtocolType.Ssl3 | SecurityProtocolType.Tls;
    private const SecurityProtocolType OldTls11 = SecurityProtocolType.Tls11;
#pragma warning restore CS0618, SYSLIB0039

    [Fact]
    public void TheSystemDefaultIsLeftToTheOs()
    {
        Assert.Equal(SystemDefault, AosHttpHandlerFactory.WithModernTls(SystemDefault, osHasTls13: false));
        Assert.Equal(SystemDefault, AosHttpHandlerFactory.WithModernTls(SystemDefault, osHasTls13: true));
    }

    [Fact]
    public void Tls12IsAddedAndNothingRemoved() =>
        Assert.Equal(PowerShellExeDefault | SecurityProtocolType.Tls12, AosHttpHandlerFactory.WithModernTls(PowerShellExeDefault, osHasTls13: false));

    [Fact]
    public void Tls13IsAddedWhereTheOsAndTheEnumHaveIt()
    {
        var expected = PowerShellExeDefault | SecurityProtocolType.Tls12 | (AosHttpHandlerFactory.Tls13.HasValue ? Tls13 : 0);
        Assert.Equal(expected, AosHttpHandlerFactory.WithModernTls(PowerShellExeDefault, osHasTls13: true));
    }

    [Fact]
    public void AListWithTls12IsKept() =>
        Assert.Equal(SecurityProtocolType.Tls12, AosHttpHandlerFactory.WithModernTls(SecurityProtocolType.Tls12, osHasTls13: false));

    [Fact]
    public void ARuntimeWithTls13InItsEnumIsRecognised()
    {
        // .NET Framework 4.8, Mono 6 and .NET Core 3+ all have it: the lanes that run these tests.
        Assert.Equal(Tls13, AosHttpHandlerFactory.Tls13);
    }

    [Fact]
    public void TheProcessDefaultGainsTls12WithoutLosingAnything()
    {
        var before = ServicePointManager.SecurityProtocol;
        try
        {
            ServicePointManager.SecurityProtocol = OldTls11;
            using var handler = AosHttpHandlerFactory.Create(skipCertificateCheck: false);
            Assert.True(ServicePointManager.SecurityProtocol.HasFlag(SecurityProtocolType.Tls12));
            Assert.True(ServicePointManager.SecurityProtocol.HasFlag(OldTls11));
        }
        finally
        {
            ServicePointManager.SecurityProtocol = before;
        }
    }

    [Fact]
    public void ParallelSendsAreNotHeldToTwoConnections()
    {
        // .NET Framework's handler starts at ServicePointManager.DefaultConnectionLimit (2).
        using var handler = new HttpClientHandler { MaxConnectionsPerServer = 2 };
        Assert.Same(handler, AosHttpHandlerFactory.Configure(handler, skipCertificateCheck: false));
        Assert.Equal(int.MaxValue, handler.MaxConnectionsPerServer);
    }

    [Fact]
    public void RedirectsCookiesAndCertificatesAreAsB16Says()
    {
        using var strict = AosHttpHandlerFactory.Create(skipCertificateCheck: false);
        Assert.False(strict.AllowAutoRedirect);
        Assert.False(strict.UseCookies);
        Assert.False(strict.ServerCertificateCustomValidationCallback!(null!, null, null, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors));

        using var lax = AosHttpHandlerFactory.Create(skipCertificateCheck: true);
        Assert.NotNull(lax.ServerCertificateCustomValidationCallback);
        Assert.True(lax.ServerCertificateCustomValidationCallback!(null!, null, null, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors));
    }
}

/// <summary>B16: every handler carries the module's own certificate decision, so no process-wide callback decides for it.</summary>
public class CertificateDecisionTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryHandlerHasItsOwnCallback(bool skip)
    {
        using var handler = AosHttpHandlerFactory.Create(skip);
        Assert.NotNull(handler.ServerCertificateCustomValidationCallback);
    }

    [Theory]
    [InlineData(System.Net.Security.SslPolicyErrors.None, false, true)]
    [InlineData(System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors, false, false)]
    [InlineData(System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch, false, false)]
    [InlineData(System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable, false, false)]
    [InlineData(System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors, true, true)]
    [InlineData(System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch, true, true)]
    public void TheDecisionIsNoErrorsOrSkip(System.Net.Security.SslPolicyErrors errors, bool skip, bool accepted)
    {
        using var handler = AosHttpHandlerFactory.Create(skip);
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://mail.example.com/st.login.mms");
        Assert.Equal(accepted, handler.ServerCertificateCustomValidationCallback!(request, null, null, errors));
    }
}
