using System;
using System.Management.Automation;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>
    /// The connection options New-AosSession and every cmdlet's one-shot -Server/-Credential set
    /// share, declared once here so that a new option reaches every cmdlet. They belong to the
    /// parameter set <see cref="ServerSet"/>: New-AosSession's only set, and the one-shot set of the
    /// cmdlets that otherwise use a session. -Server and -Credential themselves are declared by
    /// each side, as New-AosSession takes them by position and the others do not.
    /// </summary>
    public abstract class AosConnectionCmdlet : AosCmdlet
    {
        protected const string SessionSet = "Session";
        protected const string ServerSet = "Server";

        [Parameter(ParameterSetName = ServerSet)]
        public string? Domain { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        public SwitchParameter AllowUnencryptedAuthentication { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        public SwitchParameter SkipCertificateCheck { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 100;

        /// <summary>A proxy for every request (as Invoke-RestMethod's); without it, the system's default proxy.</summary>
        [Parameter(ParameterSetName = ServerSet)]
        [ValidateNotNull]
        public Uri? Proxy { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        [Credential]
        [ValidateNotNull]
        public PSCredential? ProxyCredential { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        public SwitchParameter ProxyUseDefaultCredentials { get; set; }

        /// <summary>
        /// A connection to <paramref name="server"/> with these options (not logged in yet); an
        /// invalid option stops the command. Warns when certificate checks are off.
        /// </summary>
        internal AosConnection Connect(Uri server, PSCredential credential, string? draftMailbox, string? outboxMailbox)
        {
            AosConnection connection = null!;
            try
            {
                connection = ConnectionFactory.Create(server, credential, Domain, AllowUnencryptedAuthentication,
                    SkipCertificateCheck, TimeoutSec, draftMailbox, outboxMailbox, Proxy, ProxyCredential, ProxyUseDefaultCredentials);
            }
            catch (AosException e)
            {
                ThrowTerminatingError(ToErrorRecord(e, AosConnection.ShownServer(server)));
            }

            if (SkipCertificateCheck)
            {
                WriteWarning("Server certificate checks are off (-SkipCertificateCheck): anyone on the network path can read the password and the mail.");
            }

            return connection;
        }
    }
}
