using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>
    /// The message parameters Send-AosMessage and Save-AosDraft share, and the one flow both follow
    /// for each pipeline record: bind, validate (no network), ShouldProcess, submit, output.
    /// </summary>
    public abstract class AosMessageCmdlet : AosSessionCmdlet
    {
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("sub")]
        [AllowNull, AllowEmptyString]
        public string? Subject { get; set; }

        /// <summary>The body; a string piped to the command becomes the body too.</summary>
        [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyString]
        public string? Body { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyCollection, AllowEmptyString]
        public string[]? Cc { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyCollection, AllowEmptyString]
        public string[]? Bcc { get; set; }

        [Parameter]
        [Alias("BAH")]
        public SwitchParameter BodyAsHtml { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("PsPath", "Attachment")]
        [AllowNull, AllowEmptyCollection, AllowEmptyString]
        public string[]? Attachments { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AosPriorityTransformation]
        public AosPriority? Priority { get; set; }

        [Parameter]
        [AllowNull]
        public IDictionary? Header { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyString]
        public string? DraftId { get; set; }

        /// <summary>
        /// The pipeline record itself: a string is the body; any other object is kept so that an
        /// error for its row carries the row. Hidden: users bind by property name.
        /// </summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>The recipients as bound (Send-AosMessage requires them, Save-AosDraft does not).</summary>
        protected abstract string[]? ToRecipients { get; }

        protected abstract AosSubmitKind Kind { get; }

        protected virtual bool KeepCopyRequested => false;

        /// <summary>Whether the result object is written.</summary>
        protected abstract bool EmitResult { get; }

        protected override void ProcessRecord()
        {
            object? row = InputObject?.BaseObject is string ? null : InputObject;

            if (!CheckPipedMessage(row)) return;
            AosMessage? message = BuildMessage(row);
            if (message is null) return;

            // Draft ids: each save carries a fresh token, so its new id can be found (SaveDraftAsync).
            string? token = Kind == AosSubmitKind.SaveDraft ? AosConnection.StampDraftToken(message) : null;
            // A draft named without new content keeps its saved content (AOS would replace it by the form's).
            bool keepSaved = message.DraftId is not null && Body is null && !(InputObject?.BaseObject is string)
                && !BodyAsHtml && message.Attachments.Count == 0;

            AosPreparedSubmission prepared;
            try
            {
                prepared = AosFormBuilder.Prepare(message, Kind);
            }
            catch (AosException e)
            {
                WriteError(ToErrorRecord(e, row ?? e.Target));
                return;
            }

            if (!AdmitRow(message, prepared, row, out string? journalKey)) return;
            if (!ShouldProcess(DescribeTarget(prepared), DescribeAction(prepared))) return;

            EnsureLoggedIn();
            AosSubmitResult result;
            string? draftId = prepared.DraftId;
            try
            {
                if (keepSaved)
                {
                    byte[] saved = Run((log, ct) => Connection.ReadMessageAsync(Connection.DraftMailbox, prepared.DraftId!, log, ct));
                    prepared = AosDraftContent.WithSavedContent(prepared, saved);
                    WriteVerbose($"No new body given: the saved content of draft {prepared.DraftId} ({saved.Length} bytes) is kept.");
                }

                if (token is null)
                {
                    result = Run((log, progress, ct) => SubmitAsync(prepared, journalKey, log, progress, ct), prepared.MayReportProgress);
                }
                else
                {
                    AosDraftSaveResult saved = Run((log, ct) => Connection.SaveDraftAsync(prepared, token, log, ct));
                    result = saved.Submit;
                    draftId = saved.DraftId;
                    if (draftId is null)
                    {
                        WriteWarning($"The draft was saved, but its id could not be found: {saved.Problem}. Get-AosMessage -Mailbox {Connection.DraftMailbox} lists the drafts.");
                    }
                }
            }
            catch (AosException e)
            {
                WriteError(ToErrorRecord(e, row ?? e.Target));
                return;
            }

            if (EmitResult)
            {
                WriteObject(NewResult(prepared, message, draftId, result.Submitted.LocalDateTime, result.Elapsed, result.ServerAnswer,
                    result.RequestBytes, result.SessionRenewed));
            }
        }

        /// <summary>
        /// Send-AosMessage's journal hook, right before ShouldProcess: false when the row is not to be
        /// sent (the override has written its result or error), else the key the journal records the
        /// row under (null without a journal).
        /// </summary>
        protected virtual bool AdmitRow(AosMessage message, AosPreparedSubmission prepared, object? row, out string? journalKey)
        {
            journalKey = null;
            return true;
        }

        /// <summary>Sends or saves one row; Send-AosMessage records it in its journal around the request.</summary>
        protected virtual Task<AosSubmitResult> SubmitAsync(AosPreparedSubmission prepared, string? journalKey, IAosLog log,
            IAosProgress? progress, CancellationToken cancellationToken) =>
            Connection.SubmitAsync(prepared, log, progress, cancellationToken);

        /// <summary>The journal summary the results carry (Send-AosMessage -JournalPath), else null.</summary>
        protected AosJournalSummary? JournalSummary { get; set; }

        /// <summary>The result of one row, sent now or (skipped) by an earlier run.</summary>
        internal AosSendResult NewResult(AosPreparedSubmission prepared, AosMessage message, string? draftId, DateTime submitted,
            TimeSpan duration, string serverAnswer, long requestBytes, bool sessionRenewed, bool skipped = false) =>
            new AosSendResult(
                Kind == AosSubmitKind.Send ? "Send" : "SaveDraft",
                prepared.To.ToArray(), prepared.Cc.ToArray(), prepared.Bcc.ToArray(), prepared.Subject,
                message.Attachments.Select(Path.GetFileName).ToArray(), draftId,
                Connection.Server.AbsoluteUri, Connection.Account,
                submitted, duration, serverAnswer, requestBytes, sessionRenewed, skipped, JournalSummary);

        /// <summary>
        /// A message piped in from Get-AosMessage binds DraftId only when it is a draft of this
        /// command's session: anything else (an Inbox message, another account's draft) is an
        /// error rather than a new message made of its subject and recipients.
        /// </summary>
        private bool CheckPipedMessage(object? row)
        {
            object? piped = InputObject?.BaseObject;
            (bool isDraft, AosConnection? origin, string? id, string? mailbox) = piped switch
            {
                AosMessageInfo info => (info.IsDraft, info.Origin, info.Id, info.Mailbox),
                AosMailMessage read => (read.IsDraft, read.Origin, read.Id, read.Mailbox),
                _ => (true, null, null, null),
            };
            if (origin is null) return true;

            string verb = Kind == AosSubmitKind.Send ? "sent" : "saved as a draft";
            if (!isDraft)
            {
                WriteError(NewError(AosErrorIds.NotADraft, ErrorCategory.InvalidArgument,
                    $"The message {id} is in '{mailbox}', not in the draft mailbox '{origin.DraftMailbox}', so it cannot be {verb} by id. "
                    + "To send new mail, give -Subject and -Body yourself instead of piping a message in.", row));
                return false;
            }

            if (!ReferenceEquals(origin, Connection))
            {
                WriteError(NewError(AosErrorIds.NotADraft, ErrorCategory.InvalidArgument,
                    $"The draft {id} belongs to another session ({origin}), not to this command's ({Connection}); give that session with -Session.", row));
                return false;
            }

            return true;
        }

        /// <summary>Binds the parameters into an engine message; null after writing an error.</summary>
        private AosMessage? BuildMessage(object? row)
        {
            var message = new AosMessage
            {
                Subject = Subject,
                Body = Body ?? InputObject?.BaseObject as string,
                BodyIsHtml = BodyAsHtml,
                Priority = Priority.HasValue ? (int)Priority.Value : (int?)null,
                KeepCopy = KeepCopyRequested,
                DraftId = string.IsNullOrWhiteSpace(DraftId) ? null : DraftId,
            };

            // Blank entries are "none" rather than errors: a CSV with a Cc column has empty cells.
            AddNonBlank(message.To, ToRecipients);
            AddNonBlank(message.Cc, Cc);
            AddNonBlank(message.Bcc, Bcc);
            foreach (KeyValuePair<string, string> header in HeaderList.From(Header))
            {
                message.Headers.Add(header);
            }

            foreach (string path in Attachments ?? Array.Empty<string>())
            {
                if (string.IsNullOrWhiteSpace(path)) continue;
                string? resolved = ResolveAttachment(path);
                if (resolved is null)
                {
                    WriteError(NewError(AosErrorIds.AttachmentNotFound, ErrorCategory.ObjectNotFound,
                        $"The attachment '{path}' was not found (looked for the file '{SafeUnresolved(path)}'). Nothing was sent.",
                        row ?? path));
                    return null;
                }

                message.Attachments.Add(resolved);
            }

            return message;
        }

        /// <summary>An existing file's full path, resolved against the current PowerShell location; null when there is none.</summary>
        private string? ResolveAttachment(string path) =>
            FileSystemPath.Resolve(SessionState, path) is string full && File.Exists(full) ? full : null;

        private string SafeUnresolved(string path)
        {
            try
            {
                return SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            }
            catch (Exception)
            {
                return path;
            }
        }

        private static void AddNonBlank(IList<string> target, string[]? values)
        {
            foreach (string value in values ?? Array.Empty<string>())
            {
                if (!string.IsNullOrWhiteSpace(value)) target.Add(value);
            }
        }

        private void EnsureLoggedIn()
        {
            if (Connection.IsLoggedIn) return;
            try
            {
                Run(async (log, ct) =>
                {
                    // Shared by every thread that uses this session: at most one login.
                    await Connection.EnsureLoggedInAsync(log, ct).ConfigureAwait(false);
                    return true;
                });
            }
            catch (AosException e)
            {
                // Without a session no record can go: the whole call is unusable.
                ThrowTerminatingError(ToErrorRecord(e, Server ?? Connection.Server));
            }
        }

        internal static string DescribeTarget(AosPreparedSubmission prepared)
        {
            var parts = new List<string>();
            if (prepared.To.Count > 0) parts.Add("to " + string.Join(", ", prepared.To));
            if (prepared.Cc.Count > 0) parts.Add("cc " + string.Join(", ", prepared.Cc));
            if (prepared.Bcc.Count > 0) parts.Add("bcc " + string.Join(", ", prepared.Bcc));
            if (prepared.AttachmentCount > 0) parts.Add(prepared.AttachmentCount == 1 ? "1 attachment" : prepared.AttachmentCount + " attachments");
            string subject = string.IsNullOrEmpty(prepared.Subject) ? "(no subject)" : "'" + prepared.Subject + "'";
            return parts.Count == 0 ? subject : subject + " " + string.Join("; ", parts);
        }

        private static string DescribeAction(AosPreparedSubmission prepared)
        {
            if (prepared.Kind == AosSubmitKind.Send)
            {
                return prepared.DraftId is null ? "Send message" : $"Send draft {prepared.DraftId}";
            }

            return prepared.DraftId is null ? "Save draft" : $"Overwrite draft {prepared.DraftId}";
        }
    }
}
