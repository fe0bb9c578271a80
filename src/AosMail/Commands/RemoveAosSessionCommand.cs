using System.Management.Automation;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>
    /// Remove-AosSession: forgets a session in this process (AOS has no logout, docs/aos-protocol.md B20) and clears
    /// its secrets (the connection and its password copy are disposed). The newest remaining
    /// session becomes the default.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "AosSession", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    public sealed class RemoveAosSessionCommand : AosSessionListCmdlet
    {
        protected override void ProcessRecord()
        {
            AosSession[] sessions = SessionsOrDefault("There is no AOS session to remove.");
            foreach (AosSession session in sessions)
            {
                if (!ShouldProcess($"session {session.Id} ({session})", "Remove AOS session")) continue;
                bool held = AosSessionStore.Remove(session);
                session.Connection.Dispose();
                WriteVerbose(held
                    ? $"Removed session {session.Id} ({session}); the server is not told (AOS has no logout)."
                    : $"Session {session.Id} ({session}) was already removed.");
            }

            AosSession? next = AosSessionStore.Default;
            WriteVerbose(next is null ? "No session is left." : $"The default session is now {next.Id} ({next}).");
        }
    }
}
