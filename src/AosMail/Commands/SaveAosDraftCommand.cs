using System.Management.Automation;
using AosMail.Engine;

namespace AosMail.Commands
{
    /// <summary>Save-AosDraft: saves a draft (svdrf=checked), or overwrites one with -DraftId.</summary>
    [Cmdlet(VerbsData.Save, "AosDraft", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low,
        DefaultParameterSetName = SessionSet)]
    [OutputType(typeof(AosSendResult))]
    public sealed class SaveAosDraftCommand : AosMessageCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyCollection, AllowEmptyString]
        public string[]? To { get; set; }

        protected override string[]? ToRecipients => To;

        protected override AosSubmitKind Kind => AosSubmitKind.SaveDraft;

        protected override bool EmitResult => true;
    }
}
