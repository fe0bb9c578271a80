using System.Collections.Generic;
using System.Management.Automation;
using AosMail.Engine;

namespace AosMail.Commands
{
    /// <summary>Get-AosMailbox: the user's mailboxes (mboxtable, docs/aos-protocol.md B19).</summary>
    [Cmdlet(VerbsCommon.Get, "AosMailbox", DefaultParameterSetName = SessionSet)]
    [OutputType(typeof(AosMailbox))]
    public sealed class GetAosMailboxCommand : AosSessionCmdlet
    {
        protected override void EndProcessing()
        {
            IReadOnlyList<AosMailboxEntry> entries;
            try
            {
                entries = Run((log, ct) => Connection.ListMailboxesAsync(log, ct));
            }
            catch (AosException e)
            {
                ThrowTerminatingError(ToErrorRecord(e, e.Target));
                return;
            }

            string user = Connection.Account;
            foreach (AosMailboxEntry entry in entries)
            {
                WriteObject(new AosMailbox(entry.Name, entry.MessageCount, entry.UnreadCount, user));
            }
        }
    }
}
