using System.Globalization;
using System.Management.Automation;
using AosMail.Engine;

namespace AosMail.Commands
{
    /// <summary>
    /// Get-AosMessage: without -Id, the mailbox listing (openbox, docs/aos-protocol.md B17) as AosMessageInfo rows;
    /// with -Id (or listing rows piped in), the whole message (rdmail) as an AosMailMessage,
    /// its raw bytes (-Raw), or the module's own MimeKit's MimeMessage (-AsMimeMessage).
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "AosMessage", DefaultParameterSetName = SessionSet)]
    [OutputType(typeof(AosMessageInfo), typeof(AosMailMessage), typeof(byte[]))]
    [OutputType("AosMail.MimeKit.MimeMessage")]
    public sealed class GetAosMessageCommand : AosReadCmdlet
    {
        /// <summary>The mailbox (default: Inbox).</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(Completion.AosMailboxCompleter))]
        [ValidateNotNullOrEmpty]
        public string? Mailbox { get; set; }

        /// <summary>Listing only: the newest N messages (LCTop).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int First { get; set; }

        /// <summary>Read this message (an id from the listing).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? Id { get; set; }

        /// <summary>Output the raw message as one byte[] (exactly the bytes the server sent, held in memory whole).</summary>
        [Parameter]
        public SwitchParameter Raw { get; set; }

        /// <summary>Output an AosMail.MimeKit.MimeMessage (the module's own, renamed MimeKit: see the help).</summary>
        [Parameter]
        public SwitchParameter AsMimeMessage { get; set; }

        protected override void BeginProcessing()
        {
            if (Raw && AsMimeMessage)
            {
                ThrowTerminatingError(NewError(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                    "-Raw and -AsMimeMessage cannot be used together: choose the raw bytes or the parsed MimeKit message.", null));
            }

            base.BeginProcessing();
        }

        protected override void ProcessRecord()
        {
            if (string.IsNullOrEmpty(Id))
            {
                if (Raw || AsMimeMessage)
                {
                    ThrowTerminatingError(NewError(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                        "-Raw and -AsMimeMessage read one message: give -Id (or pipe listing rows in).", null));
                }

                List();
            }
            else
            {
                if (MyInvocation.BoundParameters.ContainsKey(nameof(First)))
                {
                    ThrowTerminatingError(NewError(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                        "-First limits a listing; it cannot be used with -Id.", Id));
                }

                Read(Id!);
            }
        }

        private void List()
        {
            AosConnection connection = ConnectionForRecord();
            string mailbox = Mailbox ?? connection.InboxMailbox;
            AosListing listing;
            try
            {
                listing = Run((log, ct) => connection.ListMessagesAsync(mailbox, First, log, ct));
            }
            catch (AosException e)
            {
                WriteError(ToErrorRecord(e, Row ?? e.Target));
                return;
            }

            foreach (AosListedMessage message in listing.Messages)
            {
                WriteObject(new AosMessageInfo(message, mailbox, connection));
            }

            // A line that cannot be read is not guessed at: one error per line, the other rows still go.
            foreach (AosListingProblem problem in listing.Problems)
            {
                string line = problem.LineNumber.ToString(CultureInfo.InvariantCulture);
                WriteError(NewError(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                    $"Line {line} of the listing of '{mailbox}' was skipped: {problem.Reason}.", $"{mailbox}:{line}"));
            }
        }

        private void Read(string id)
        {
            AosConnection connection = ConnectionForRecord();
            string mailbox = Mailbox ?? connection.InboxMailbox;
            try
            {
                // A large message shows the bytes read so far.
                string label = $"Reading message {id} from {mailbox}";
                if (Raw)
                {
                    WriteObject(Run((log, progress, ct) => connection.ReadMessageAsync(mailbox, id, log, ct, progress), progressLabel: label));
                }
                else if (AsMimeMessage)
                {
                    WriteObject(Run((log, progress, ct) => connection.ReadMimeMessageAsync(mailbox, id, log, ct, progress), progressLabel: label));
                }
                else
                {
                    WriteObject(new AosMailMessage(id, mailbox,
                        Run((log, progress, ct) => connection.ReadParsedMessageAsync(mailbox, id, log, ct, progress), progressLabel: label), connection));
                }
            }
            catch (AosException e)
            {
                WriteError(ToErrorRecord(e, Row ?? e.Target));
            }
        }
    }
}
