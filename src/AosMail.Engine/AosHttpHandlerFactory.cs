using System;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Runtime.InteropServices;

namespace AosMail.Engine
{
    /// <summary>
    /// The HTTP handler of a connection, set up alike on every runtime. On .NET Framework (Windows
    /// PowerShell) HttpClientHandler is HttpWebRequest underneath: it speaks the TLS versions of
    /// ServicePointManager.SecurityProtocol and keeps 2 connections per server unless told
    /// otherwise, where PowerShell 7's handler negotiates with the OS and has no limit.
    /// </summary>
    internal static class AosHttpHandlerFactory
    {
        public static HttpClientHandler Create(bool skipCertificateCheck) => Configure(new HttpClientHandler(), skipCertificateCheck);

        /// <summary>Sets up <paramref name="handler"/> (a test may pass another HttpClientHandler, e.g. Mono's HttpWebRequest one).</summary>
        internal static HttpClientHandler Configure(HttpClientHandler handler, bool skipCertificateCheck)
        {
            EnableModernTls();

            // B16: redirects are failures, not followed; no cookies (the SID is the session).
            handler.AllowAutoRedirect = false;
            handler.UseCookies = false;
            // B16: the module's own certificate decision, always. On .NET Framework a handler's callback
            // replaces ServicePointManager's process-wide one for its requests, so no profile's
            // accept-all callback loosens the check and no scriptblock callback (which throws on the
            // handshake's pool thread: no runspace there) breaks it. Elsewhere it is the default rule.
            handler.ServerCertificateCustomValidationCallback = CertificateDecision(skipCertificateCheck);

            try
            {
                // What PowerShell 7's handler has by default; .NET Framework's is 2 per server, which
                // would queue parallel sends (runspaces, jobs) behind each other.
                handler.MaxConnectionsPerServer = int.MaxValue;
            }
            catch (Exception e) when (e is NotImplementedException || e is PlatformNotSupportedException)
            {
                // Mono's HttpWebRequest handler (used by the tests only) has no such setting.
            }

            return handler;
        }

        /// <summary>The certificate rule: no errors at all, or anything with -SkipCertificateCheck.</summary>
        internal static Func<HttpRequestMessage, X509Certificate2?, X509Chain?, SslPolicyErrors, bool> CertificateDecision(bool skipCertificateCheck) =>
            skipCertificateCheck ? AcceptAny : NoErrors;

        private static readonly Func<HttpRequestMessage, X509Certificate2?, X509Chain?, SslPolicyErrors, bool> AcceptAny = (message, certificate, chain, errors) => true;
        private static readonly Func<HttpRequestMessage, X509Certificate2?, X509Chain?, SslPolicyErrors, bool> NoErrors = (message, certificate, chain, errors) => errors == SslPolicyErrors.None;

        /// <summary>
        /// Adds TLS 1.2 (and 1.3 where the OS has it) to the process's protocols when the process
        /// pins a list without it, as powershell.exe does on machines without the
        /// SchUseStrongCrypto/SystemDefaultTlsVersions registry settings (it then offers SSL 3 and
        /// TLS 1.0 only). Nothing is removed. SystemDefault (0) is left alone: the OS chooses, and
        /// on .NET Core and PowerShell 7 that is always the case.
        /// </summary>
        internal static void EnableModernTls()
        {
            var current = ServicePointManager.SecurityProtocol;
            var wanted = WithModernTls(current, OsHasTls13());
            if (wanted != current)
            {
                ServicePointManager.SecurityProtocol = wanted;
            }
        }

        /// <summary>
        /// The protocols to use given the current ones. TLS 1.3 is only added where the OS speaks it:
        /// on Windows 10 and Server 2019 SChannel fails every handshake that offers it, which would
        /// break every other HTTPS call in the session too.
        /// </summary>
        internal static SecurityProtocolType WithModernTls(SecurityProtocolType current, bool osHasTls13)
        {
            if (current == SystemDefault)
            {
                return current;
            }

            var wanted = current | SecurityProtocolType.Tls12;
            if (osHasTls13 && Tls13.HasValue)
            {
                wanted |= Tls13.Value;
            }

            return wanted;
        }

        // Neither member is in the netstandard2.0 reference: SystemDefault is 0 and Tls13 is 12288
        // where the runtime's enum has them (.NET Framework 4.7 and 4.8).
        private const SecurityProtocolType SystemDefault = 0;

        internal static readonly SecurityProtocolType? Tls13 =
            Enum.IsDefined(typeof(SecurityProtocolType), "Tls13") ? (SecurityProtocolType)Enum.Parse(typeof(SecurityProtocolType), "Tls13") : (SecurityProtocolType?)null;

        /// <summary>SChannel has TLS 1.3 from Windows Server 2022 and Windows 11 (build 20348) on.</summary>
        private static bool OsHasTls13() =>
            RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && Environment.OSVersion.Version >= new Version(10, 0, 20348);
    }
}
