using System;
using System.Management.Automation;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>
    /// A cmdlet that talks to AOS through a session: -Session, else the default session, else a
    /// one-shot connection from -Server and -Credential (for a scheduled task's single line).
    /// A one-shot connection logs in when first used, so -WhatIf and invalid input never reach
    /// the network, and it is dropped when the command ends.
    /// </summary>
    public abstract class AosSessionCmdlet : AosCmdlet
    {
        protected const string SessionSet = "Session";
        protected const string ServerSet = "Server";

        private AosConnection? _oneShot;

        /// <summary>The session to use; the newest session when omitted.</summary>
        [Parameter(ParameterSetName = SessionSet)]
        [ValidateNotNull]
        [ArgumentCompleter(typeof(Completion.AosSessionCompleter))]
        public AosSession? Session { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ServerSet)]
        [ValidateNotNull]
        public Uri? Server { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ServerSet)]
        [Credential]
        [ValidateNotNull]
        public PSCredential? Credential { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        public string? Domain { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        public SwitchParameter AllowUnencryptedAuthentication { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        public SwitchParameter SkipCertificateCheck { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 100;

        [Parameter(ParameterSetName = ServerSet)]
        [ValidateNotNull]
        public Uri? Proxy { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        [Credential]
        [ValidateNotNull]
        public PSCredential? ProxyCredential { get; set; }

        [Parameter(ParameterSetName = ServerSet)]
        public SwitchParameter ProxyUseDefaultCredentials { get; set; }

        /// <summary>The connection this command uses.</summary>
        internal AosConnection Connection { get; private set; } = null!;

        protected override void BeginProcessing()
        {
            if (ParameterSetName == ServerSet)
            {
                try
                {
                    _oneShot = ConnectionFactory.Create(Server!, Credential!, Domain, AllowUnencryptedAuthentication,
                        SkipCertificateCheck, TimeoutSec, draftMailbox: null, outboxMailbox: null, Proxy, ProxyCredential, ProxyUseDefaultCredentials);
                }
                catch (AosException e)
                {
                    ThrowTerminatingError(ToErrorRecord(e, AosConnection.ShownServer(Server)));
                }

                if (SkipCertificateCheck)
                {
                    WriteWarning("Server certificate checks are off (-SkipCertificateCheck): anyone on the network path can read the password and the mail.");
                }

                Connection = _oneShot!;
                return;
            }

            AosSession? session = Session ?? AosSessionStore.Default;
            if (session is null)
            {
                ThrowTerminatingError(NewError(AosErrorIds.NoSession, AosErrorCategory.InvalidOperation,
                    "There is no AOS session. Run New-AosSession -Server <uri> -Credential <credential> first, or give -Server and -Credential to this command.",
                    target: null));
            }

            if (session!.Connection.IsClosed)
            {
                ThrowTerminatingError(NewError(AosErrorIds.NoSession, AosErrorCategory.InvalidOperation,
                    $"The session {session.Id} ({session}) was removed with Remove-AosSession. Run New-AosSession to log in again.",
                    target: session));
            }

            Connection = session.Connection;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _oneShot?.Dispose();
                _oneShot = null;
            }

            base.Dispose(disposing);
        }
    }
}
