using System;
using System.Management.Automation;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>New-AosSession: logs in (docs/aos-protocol.md B3, B4) and makes the session the default for the other cmdlets.</summary>
    [Cmdlet(VerbsCommon.New, "AosSession", DefaultParameterSetName = ServerSet)]
    [OutputType(typeof(AosSession))]
    public sealed class NewAosSessionCommand : AosConnectionCmdlet
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
        [ValidateNotNullOrEmpty]
        public string? DraftMailbox { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? OutboxMailbox { get; set; }

        /// <summary>The server keeps a copy of every message it sends in the Outbox, asked or not: sends of unknown outcome are settled there without -KeepCopy.</summary>
        [Parameter]
        public SwitchParameter OutboxKeepsCopies { get; set; }

        protected override void EndProcessing()
        {
            AosConnection connection = Connect(Server, Credential, DraftMailbox, OutboxMailbox);
            connection.OutboxKeepsCopies = OutboxKeepsCopies;

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
            AosSession? replaced = AosSessionStore.Add(session);
            WriteVerbose($"Logged in to {session.Server} as {session.UserName}; this is now the default session (Id {session.Id}).");
            WarnIfSenderChanged(session, replaced);
            WriteObject(session);
        }

        /// <summary>
        /// A new session of another account silently taking over as the default would
        /// send the next command without -Session from the wrong account: say so, naming both.
        /// </summary>
        private void WarnIfSenderChanged(AosSession session, AosSession? replaced)
        {
            if (replaced is null) return;
            if (string.Equals(replaced.UserName, session.UserName, StringComparison.OrdinalIgnoreCase)) return;
            WriteWarning($"Session {session.Id} ({session}) is now the default session: commands without -Session now send and read as {session.UserName}, "
                + $"no longer as {replaced.UserName} (session {replaced.Id}, {replaced.Server}). Give -Session to choose the account for each command.");
        }
    }
}
