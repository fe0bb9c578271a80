using System;
using System.Management.Automation;
using AosMail.Engine;

namespace AosMail.Internal
{
    /// <summary>Turns the connection parameters that New-AosSession and the one-shot set share into engine settings.</summary>
    internal static class ConnectionFactory
    {
        public static AosConnection Create(Uri server, PSCredential credential, string? domain, bool allowUnencrypted,
            bool skipCertificateCheck, int timeoutSec, string? draftMailbox, string? outboxMailbox,
            Uri? proxy, PSCredential? proxyCredential, bool proxyUseDefaultCredentials)
        {
            var settings = new AosConnectionSettings
            {
                Server = server,
                UserName = credential.UserName,
                Domain = string.IsNullOrWhiteSpace(domain) ? null : domain,
                // The connection owns and disposes its copy; the caller's credential stays usable.
                Password = credential.Password.Copy(),
                AllowUnencryptedAuthentication = allowUnencrypted,
                SkipCertificateCheck = skipCertificateCheck,
                Timeout = TimeSpan.FromSeconds(timeoutSec),
                Proxy = proxy,
                // A NetworkCredential over the SecureString: the proxy password stays encrypted until a 407 asks for it.
                ProxyCredential = proxyCredential?.GetNetworkCredential(),
                ProxyUseDefaultCredentials = proxyUseDefaultCredentials,
            };
            // Given names are checked by the connection like -Mailbox (a blank one is an error, not the default).
            if (draftMailbox != null) settings.DraftMailbox = draftMailbox;
            if (outboxMailbox != null) settings.OutboxMailbox = outboxMailbox;
            AosConnection connection;
            try
            {
                connection = new AosConnection(settings);
            }
            catch
            {
                settings.Password.Dispose();
                throw;
            }

            // A send usually follows: its path is compiled on another thread while the login's round
            // trip runs. Not at import, which loads neither the engine nor MimeKit (a fast start).
            AosWarmUp.Start();
            return connection;
        }
    }
}
