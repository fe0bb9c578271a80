using System.Management.Automation;
using AosMail.Engine;

namespace AosMail.Commands
{
    /// <summary>Send-AosMessage: sends a message now (snd=checked), one per pipeline record; the send journal is in SendAosMessageCommand.Journal.cs.</summary>
    [Cmdlet(VerbsCommunications.Send, "AosMessage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
        DefaultParameterSetName = SessionSet)]
    [OutputType(typeof(AosSendResult))]
    public sealed partial class SendAosMessageCommand : AosMessageCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyCollection, AllowEmptyString]
        public string[] To { get; set; } = System.Array.Empty<string>();

        /// <summary>Keep a copy in the Outbox after sending (keepcopy=checked).</summary>
        [Parameter]
        public SwitchParameter KeepCopy { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>Up to this many piped messages in flight at once on the session's connections (results still in input order).</summary>
        [Parameter]
        [ValidateRange(1, AosConnection.MaxRequestsInFlight)]
        public int ThrottleLimit { get; set; } = 1;

        protected override int RowsInFlight => ThrottleLimit;

        protected override string[]? ToRecipients => To;

        protected override AosSubmitKind Kind => AosSubmitKind.Send;

        protected override bool KeepCopyRequested => KeepCopy;

        protected override bool EmitResult => PassThru;
    }
}
