using System;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// -Proxy with a SOCKS URI: .NET 6+ (PowerShell 7) has a SOCKS client, .NET Framework (Windows
/// PowerShell 5.1) has none, so there it is refused before any request. Run on both: the engine
/// tests also run for net472 on Mono in the Framework lane.
/// </summary>
public class ProxyRuntimeTests
{
    private static AosConnectionSettings WithProxy(string proxy) =>
        new() { Server = new Uri("https://mail.example.com/"), Proxy = new Uri(proxy) };

    [Theory]
    [InlineData("socks5://127.0.0.1:1080")]
    [InlineData("socks4://proxy.example.com:1080")]
    [InlineData("socks4a://proxy.example.com:1080")]
    public void ASocksProxyIsRefusedWhereTheRuntimeHasNoSocksClient(string proxy)
    {
        var error = Assert.Throws<AosException>(() => AosProxy.Check(WithProxy(proxy), runtimeHasSocks: false));
        Assert.Equal(AosErrorIds.InvalidProxy, error.ErrorId);
        Assert.Equal(proxy, error.Target);
        Assert.Contains("SOCKS proxy, which .NET Framework (Windows PowerShell 5.1) cannot use", error.Message);

        AosProxy.Check(WithProxy(proxy), runtimeHasSocks: true);
    }

    [Fact]
    public void AnHttpProxyIsFineWithoutSocks() => AosProxy.Check(WithProxy("http://proxy.example.com:8080"), runtimeHasSocks: false);

    [Fact]
    public void ThisRuntimeSaysWhetherItHasSocks()
    {
#if NETFRAMEWORK
        Assert.False(AosProxy.RuntimeHasSocks);
        Assert.Throws<AosException>(() => AosProxy.Check(WithProxy("socks5://127.0.0.1:1080")));
#else
        Assert.True(AosProxy.RuntimeHasSocks);
        AosProxy.Check(WithProxy("socks5://127.0.0.1:1080"));
#endif
    }
}
