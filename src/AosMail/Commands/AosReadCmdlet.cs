using System.Management.Automation;
using AosMail.Engine;

namespace AosMail.Commands
{
    /// <summary>
    /// What the cmdlets that read messages share: the pipeline record, and the rule that a
    /// message piped in is read through the session it was listed with (unless -Session or
    /// -Server is given), so that another account's ids never go to the default session.
    /// </summary>
    public abstract class AosReadCmdlet : AosSessionCmdlet
    {
        /// <summary>The pipeline record (a listing row or a message); users bind Id and Mailbox by property name.</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>The record as the error target: the piped object when there is one.</summary>
        protected object? Row => InputObject?.BaseObject is string ? null : InputObject;

        /// <summary>The connection for this record.</summary>
        internal AosConnection ConnectionForRecord()
        {
            bool explicitSession = ParameterSetName == ServerSet || MyInvocation.BoundParameters.ContainsKey(nameof(Session));
            if (!explicitSession)
            {
                if (InputObject?.BaseObject is IAosStoredMessage { Origin: { IsClosed: false } origin }) return origin;
            }

            return Connection;
        }
    }
}
