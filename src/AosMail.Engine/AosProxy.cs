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

        /// <summary>
        /// Sets the handler up for <see cref="AosConnectionSettings.Proxy"/> (without one the handler
        /// keeps the default proxy) and returns the handler to send through: with a
        /// -ProxyCredential to a plain-http server, <see cref="AosProxyAuthentication"/> in front of it.
        /// </summary>
        public static HttpMessageHandler Apply(HttpClientHandler handler, AosConnectionSettings settings)
        {
            if (settings.Proxy == null)
            {
                return handler;
            }

            // As Invoke-RestMethod: every request goes through the proxy, local ones included.
            var proxy = new WebProxy(settings.Proxy) { BypassProxyOnLocal = false };
            handler.UseProxy = true;
            handler.Proxy = proxy;
            if (settings.ProxyCredential == null)
            {
                proxy.UseDefaultCredentials = settings.ProxyUseDefaultCredentials;
                return handler;
            }

            if (settings.Server?.Scheme != Uri.UriSchemeHttp || !AosProxyAuthentication.CanSendBasic(settings.ProxyCredential))
            {
                // Over https the proxy sees only the tunnel's CONNECT, which carries no body: the
                // handler answers its 407 there, and a header on the request would go inside the
                // tunnel to the AOS server.
                proxy.Credentials = settings.ProxyCredential;
                return handler;
            }

            var authentication = new AosProxyAuthentication(settings.ProxyCredential, handler);
            proxy.Credentials = authentication;
            return authentication;
        }

        /// <summary>What a 407 means for these settings, for <see cref="Refused"/>.</summary>
        public static string RefusalReason(AosConnectionSettings settings) =>
            settings.ProxyCredential != null ? "the proxy refused the credential given with -ProxyCredential: check its user name and password"
            : settings.ProxyUseDefaultCredentials ? "the proxy refused the signed-in user's credential (-ProxyUseDefaultCredentials): give another with -ProxyCredential"
            : "it wants a credential of its own. Give it with -ProxyCredential, or -ProxyUseDefaultCredentials for a proxy that takes your Windows sign-in";

        /// <summary>The error for a 407 (the proxy refused <paramref name="what"/>), naming the proxy; nothing reached the AOS server.</summary>
        public static AosException Refused(Uri? proxy, string reason, Uri server, string errorId, string what, string status, object? target) =>
            new AosException(errorId, AosErrorCategory.AuthenticationError,
                $"The proxy {Name(proxy)} refused {what} to {server.AbsoluteUri} ({status}): {reason}. Nothing reached the AOS server.", target);

        /// <summary>
        /// The error when nothing could be reached through -Proxy: every connection goes to the
        /// proxy, so it is the proxy that was not reached (or that refused the tunnel).
        /// </summary>
        public static AosException NotReached(Uri proxy, Uri server, string command, string cause, int attempts, Exception? error) =>
            new AosException(AosErrorIds.ConnectionFailed, AosErrorCategory.ConnectionError,
                FormattableString.Invariant($"Could not reach the proxy {Name(proxy)} on the way to {server.AbsoluteUri} ({command}): {cause}. Nothing was sent; tried {attempts} times. Check -Proxy and that the proxy is running."),
                proxy, error);

        private static string Name(Uri? proxy) => proxy == null ? "(the system's default proxy)" : proxy.GetLeftPart(UriPartial.Authority);
    }
}
