using System;
using System.Management.Automation;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>New-AosSession: logs in (docs/aos-protocol.md B3, B4) and makes the session the default for the other cmdlets.</summary>
    [Cmdlet(VerbsCommon.New, "AosSession")]
    [OutputType(typeof(AosSession))]
    public sealed class NewAosSessionCommand : AosCmdlet
    {
        /// <summary>The base URI every command is appended to (B1).</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNull]
        public Uri Server { get; set; } = null!;

        [Parameter(Mandatory = true, Position = 1)]
        [Credential]
        [ValidateNotNull]
        public PSCredential Credential { get; set; } = null!;

        [Parameter]
        public string? Domain { get; set; }

        [Parameter]
        public SwitchParameter AllowUnencryptedAuthentication { get; set; }

        [Parameter]
        public SwitchParameter SkipCertificateCheck { get; set; }

        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 100;

        /// <summary>A proxy for every request (as Invoke-RestMethod's); without it, the system's default proxy.</summary>
        [Parameter]
        [ValidateNotNull]
        public Uri? Proxy { get; set; }

        [Parameter]
        [Credential]
        [ValidateNotNull]
        public PSCredential? ProxyCredential { get; set; }

        [Parameter]
        public SwitchParameter ProxyUseDefaultCredentials { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? DraftMailbox { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? OutboxMailbox { get; set; }

        protected override void EndProcessing()
        {
            AosConnection connection;
            try
            {
                connection = ConnectionFactory.Create(Server, Credential, Domain, AllowUnencryptedAuthentication,
                    SkipCertificateCheck, TimeoutSec, DraftMailbox, OutboxMailbox, Proxy, ProxyCredential, ProxyUseDefaultCredentials);
            }
            catch (AosException e)
            {
                ThrowTerminatingError(ToErrorRecord(e, AosConnection.ShownServer(Server)));
                return;
            }

            if (SkipCertificateCheck)
            {
                WriteWarning("Server certificate checks are off (-SkipCertificateCheck): anyone on the network path can read the password and the mail.");
            }

            try
            {
                Run(async (log, ct) =>
                {
                    await connection.LoginAsync(log, ct).ConfigureAwait(false);
                    return true;
                });
            }
            catch (AosException e)
            {
                connection.Dispose();
                ThrowTerminatingError(ToErrorRecord(e, AosConnection.ShownServer(Server)));
                return;
            }
            catch
            {
                connection.Dispose();
                throw;
            }

            var session = new AosSession(AosSessionStore.NextId(), connection);
            AosSessionStore.Add(session);
            WriteVerbose($"Logged in to {session.Server} as {session.UserName}; this is now the default session (Id {session.Id}).");
            WriteObject(session);
        }
    }
}
