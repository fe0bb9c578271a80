using System.Management.Automation;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>
    /// Test-AosSession: $true while the server says the session is alive (sqVry), else $false.
    /// An expired, dropped or removed session is $false, not an error; only a server that cannot
    /// be reached or answers nonsense writes an error.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "AosSession")]
    [OutputType(typeof(bool))]
    public sealed class TestAosSessionCommand : AosSessionListCmdlet
    {
        protected override void ProcessRecord()
        {
            AosSession[] sessions = SessionsOrDefault("There is no AOS session to test. Run New-AosSession first.");
            foreach (AosSession session in sessions)
            {
                if (session.Connection.IsClosed)
                {
                    WriteVerbose($"Session {session.Id} ({session}) was removed.");
                    WriteObject(false);
                    continue;
                }

                try
                {
                    WriteObject(Run((log, ct) => session.Connection.TestAsync(log, ct)));
                }
                catch (AosException e)
                {
                    WriteError(ToErrorRecord(e, session));
                }
            }
        }
    }
}
