using System;
using System.Net;
using System.Security;

namespace AosMail.Engine
{
    /// <summary>Everything a connection needs to log in and talk to one AOS server.</summary>
    public sealed class AosConnectionSettings
    {
        /// <summary>The base URI (docs/aos-protocol.md B1): every command URL is this plus "/" plus the command.</summary>
        public Uri Server { get; set; } = null!;

        /// <summary>The login name as the user typed it; "name@host" supplies the host when Domain is empty (B3).</summary>
        public string UserName { get; set; } = "";

        public string? Domain { get; set; }

        /// <summary>Kept as a SecureString until the login form is written (never a plain string field).</summary>
        public SecureString Password { get; set; } = null!;

        /// <summary>
        /// A proxy for every request, as Invoke-RestMethod's -Proxy: null means the system's
        /// default proxy (HttpClient.DefaultProxy: the environment's or the OS's settings).
        /// </summary>
        public Uri? Proxy { get; set; }

        /// <summary>The proxy's own credential (Proxy-Authorization), never put in the proxy URI.</summary>
        public NetworkCredential? ProxyCredential { get; set; }

        /// <summary>Authenticate to the proxy as the signed-in user (Windows integrated authentication).</summary>
        public bool ProxyUseDefaultCredentials { get; set; }

        public bool AllowUnencryptedAuthentication { get; set; }
        public bool SkipCertificateCheck { get; set; }
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

        /// <summary>B18: mailbox names, configurable per session.</summary>
        public string InboxMailbox { get; set; } = "Inbox";
        public string DraftMailbox { get; set; } = "Draft";
        public string OutboxMailbox { get; set; } = "Outbox";
    }
}
