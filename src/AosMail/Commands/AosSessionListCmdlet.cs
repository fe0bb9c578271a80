using System.Management.Automation;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>
    /// A cmdlet that acts on sessions themselves (Test-AosSession, Remove-AosSession): the sessions
    /// given or piped in, else the default session.
    /// </summary>
    public abstract class AosSessionListCmdlet : AosCmdlet
    {
        /// <summary>The sessions to act on (default: the default session).</summary>
        [Parameter(Position = 0, ValueFromPipeline = true)]
        [ArgumentCompleter(typeof(Completion.AosSessionCompleter))]
        [ValidateNotNull]
        public AosSession[]? Session { get; set; }

        /// <summary>The sessions bound for this record, or the default one; terminates when there is none.</summary>
        protected AosSession[] SessionsOrDefault(string noSessionMessage)
        {
            if (Session is not null) return Session;
            AosSession? current = AosSessionStore.Default;
            if (current is null)
            {
                ThrowTerminatingError(NewError(AosErrorIds.NoSession, AosErrorCategory.InvalidOperation, noSessionMessage, null));
            }

            return new[] { current! };
        }
    }
}
