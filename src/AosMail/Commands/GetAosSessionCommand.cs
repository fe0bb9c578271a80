using System.Linq;
using System.Management.Automation;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>Get-AosSession: the sessions this process holds, oldest first (the last one is the default).</summary>
    [Cmdlet(VerbsCommon.Get, "AosSession")]
    [OutputType(typeof(AosSession))]
    public sealed class GetAosSessionCommand : AosCmdlet
    {
        /// <summary>Only the sessions with these ids.</summary>
        [Parameter(Position = 0)]
        public int[]? Id { get; set; }

        /// <summary>Only the default session.</summary>
        [Parameter]
        public SwitchParameter Default { get; set; }

        protected override void EndProcessing()
        {
            AosSession[] sessions = Default
                ? (AosSessionStore.Default is { } current ? new[] { current } : new AosSession[0])
                : AosSessionStore.All();
            foreach (AosSession session in sessions.Where(s => Id is null || Id.Contains(s.Id)))
            {
                WriteObject(session);
            }
        }
    }
}
