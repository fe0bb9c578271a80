using System;
using System.Net;
using System.Net.Http;

namespace AosMail.Engine
{
    /// <summary>
    /// The proxy settings, named and checked as Invoke-RestMethod's -Proxy, -ProxyCredential and
    /// -ProxyUseDefaultCredentials: no -Proxy leaves the system's default proxy in place; the
    /// credentials need -Proxy and exclude each other. A proxy URI with a user name or password
    /// in it is refused: it would show in logs and error messages, and -ProxyCredential says it
    /// without that risk.
    /// </summary>
    internal static class AosProxy
    {
        /// <summary>
        /// Whether this runtime's HttpClientHandler can talk to a SOCKS proxy: .NET 6 and later can
        /// (PowerShell 7.2+); .NET Framework (Windows PowerShell 5.1, version 4.x here), Mono and
        /// .NET Core before 6 have no SOCKS client and would fail at the first request.
        /// </summary>
        internal static readonly bool RuntimeHasSocks = Environment.Version.Major >= 6;

        public static void Check(AosConnectionSettings settings) => Check(settings, RuntimeHasSocks);

        internal static void Check(AosConnectionSettings settings, bool runtimeHasSocks)
        {
            if (settings.ProxyCredential != null && settings.ProxyUseDefaultCredentials)
            {
                throw new AosException(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                    "-ProxyCredential and -ProxyUseDefaultCredentials cannot be used together: give one of them.", "ProxyCredential");
            }

            var proxy = settings.Proxy;
            if (proxy == null)
            {
                if (settings.ProxyCredential != null || settings.ProxyUseDefaultCredentials)
                {
                    throw new AosException(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                        $"{(settings.ProxyCredential != null ? "-ProxyCredential" : "-ProxyUseDefaultCredentials")} is for a proxy given with -Proxy, and no -Proxy was given.",
                        settings.ProxyCredential != null ? "ProxyCredential" : "ProxyUseDefaultCredentials");
                }

                return;
            }

            if (proxy.OriginalString.IndexOf('@') >= 0)
            {
                // Never echoed: what comes before the '@' may be a password.
                throw new AosException(AosErrorIds.InvalidProxy, AosErrorCategory.InvalidArgument,
                    "The -Proxy URI holds a user name or password ('...@'): give the URI without them (http://host:port) and the credential as -ProxyCredential, so that it never shows in a URL.",
                    proxy.IsAbsoluteUri ? $"{proxy.Scheme}://{proxy.Host}:{proxy.Port}" : null);
            }

            if (!proxy.IsAbsoluteUri || (proxy.Scheme != Uri.UriSchemeHttp && proxy.Scheme != Uri.UriSchemeHttps
                && proxy.Scheme != "socks4" && proxy.Scheme != "socks4a" && proxy.Scheme != "socks5"))
            {
                throw new AosException(AosErrorIds.InvalidProxy, AosErrorCategory.InvalidArgument,
                    $"'{proxy.OriginalString}' is not a proxy URI this module can use: give an absolute http, https, socks4, socks4a or socks5 URI, such as http://proxy.example.com:8080.",
                    proxy.OriginalString);
            }

            if (!runtimeHasSocks && proxy.Scheme.StartsWith("socks", StringComparison.Ordinal))
            {
                throw new AosException(AosErrorIds.InvalidProxy, AosErrorCategory.InvalidArgument,
                    $"'{proxy.OriginalString}' is a SOCKS proxy, which .NET Framework (Windows PowerShell 5.1) cannot use: give an http or https proxy, or run the command in PowerShell 7.",
                    proxy.OriginalString);
            }
        }

        /// <summary>Sets the handler up for <see cref="AosConnectionSettings.Proxy"/>; without one the handler keeps the default proxy.</summary>
        public static HttpClientHandler Apply(HttpClientHandler handler, AosConnectionSettings settings)
        {
            if (settings.Proxy != null)
            {
                // As Invoke-RestMethod: every request goes through the proxy, local ones included.
                var proxy = new WebProxy(settings.Proxy) { BypassProxyOnLocal = false };
                if (settings.ProxyCredential != null)
                {
                    proxy.Credentials = settings.ProxyCredential;
                }
                else
                {
                    proxy.UseDefaultCredentials = settings.ProxyUseDefaultCredentials;
                }

                handler.UseProxy = true;
                handler.Proxy = proxy;
            }

            return handler;
        }
    }
}
