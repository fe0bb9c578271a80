using System;
using System.Collections;
using System.Collections.Generic;
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

        /// <summary>The body; one string piped to the command becomes the body too.</summary>
        [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyString]
        public string? Body { get; set; }

        /// <summary>A file whose text is the body (UTF-8 unless -Encoding says otherwise).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyString]
        public string? BodyPath { get; set; }

        [Parameter]
        [AosEncodingTransformation]
        [ArgumentCompleter(typeof(Completion.AosEncodingCompleter))]
        public System.Text.Encoding? Encoding { get; set; }

        /// <summary>The plain-text alternative of an HTML body; without -BodyAsHtml, the plain body.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyString]
        public string? TextBody { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyCollection, AllowEmptyString]
        public string[]? Cc { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyCollection, AllowEmptyString]
        public string[]? Bcc { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyCollection, AllowEmptyString]
        public string[]? ReplyTo { get; set; }

        [Parameter]
        [Alias("BAH")]
        public SwitchParameter BodyAsHtml { get; set; }

        /// <summary>Paths, FileInfo objects, or Name/Content objects (see <see cref="AosAttachment"/>).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("PsPath", "Attachment")]
        [AllowNull, AllowEmptyCollection]
        public AosAttachment[]? Attachments { get; set; }

        /// <summary>Content id to attachment (a path, FileInfo or Name/Content object), shown by the HTML as cid:id.</summary>
        [Parameter]
        [AllowNull]
        public IDictionary? InlineAttachments { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AosPriorityTransformation]
        public AosPriority? Priority { get; set; }

        [Parameter]
        [AllowNull]
        public IDictionary? Header { get; set; }

        /// <summary>Asks for a read receipt to the sending account (Disposition-Notification-To).</summary>
        [Parameter]
        public SwitchParameter RequestReadReceipt { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull, AllowEmptyString]
        public string? DraftId { get; set; }

        /// <summary>
        /// The pipeline record itself: a string is the body; any other object is kept so that an
        /// error for its row carries the row. Hidden: users bind by property name.
        /// </summary>
        /// <remarks>
        /// Strings are held until the end: one piped string is the body of one message, but
        /// several (the lines Get-Content writes) are refused rather than sent as a message per
        /// line (<see cref="EndProcessing"/>).
        /// </remarks>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>The recipients as bound (Send-AosMessage requires them, Save-AosDraft does not).</summary>
        protected abstract string[]? ToRecipients { get; }

        protected abstract AosSubmitKind Kind { get; }

        protected virtual bool KeepCopyRequested => false;

        /// <summary>Whether the result object is written.</summary>
        protected abstract bool EmitResult { get; }

        /// <summary>How many rows may have their requests in flight at once (1: each row's request ends before the next row is read).</summary>
        protected virtual int RowsInFlight => 1;

        private readonly List<string> _pipedStrings = new List<string>();
        private readonly List<PSObject> _pipedFiles = new List<PSObject>();
        private AosAttachment[]? _commandLineAttachments;
        private AosRowPipeline<PendingRow>? _rows;
        private QueuedLog? _log;
        private HashSet<string>? _messagePropertyNames;

        /// <summary>The record being processed, so that the journal's hooks refuse or skip the right row.</summary>
        private PendingRow? _current;

        private AosRowPipeline<PendingRow> Rows => _rows ??= new AosRowPipeline<PendingRow>(RowsInFlight, StopOnError(), WaitForRow, WriteRow);

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            // A string from Get-Content carries a PSPath, which binds -Attachments (alias PsPath) by
            // property name: a piped body uses only the attachments given on the command line.
            _commandLineAttachments = Attachments;
            // One queue for every row's log lines; upload progress only when one request runs at a time.
            _log = NewLog(withProgress: RowsInFlight == 1);
        }

        protected override void ProcessRecord()
        {
            switch (InputObject?.BaseObject)
            {
                case string text:
                    _pipedStrings.Add(text);
                    return;
                case System.IO.FileSystemInfo _:
                    // Held like strings: one piped file is an attachment of one message, several are refused.
                    _pipedFiles.Add(InputObject);
                    return;
            }

            if (InputObject is not null && !BindsMessageProperty(InputObject))
            {
                string type = InputObject.BaseObject.GetType().FullName ?? "object";
                TerminateAfterRows(NewError(AosErrorIds.AmbiguousPipelineInput, AosErrorCategory.InvalidArgument,
                    $"A {type} was piped to {MyInvocation.MyCommand.Name}, and it has no property that names a message part (To, Subject, Body, DraftId...), "
                    + "so it would only repeat the message the parameters describe, once per piped object. It was not sent. "
                    + "To send one message, do not pipe anything to the command; to send several, pipe objects with To, Subject and Body properties (Import-Csv).",
                    InputObject));
            }

            Process(InputObject, pipedBody: null);
        }

        protected override void EndProcessing()
        {
            if (_pipedStrings.Count == 1 && _pipedFiles.Count == 0)
            {
                Process(null, _pipedStrings[0]);
            }
            else if (_pipedFiles.Count == 1 && _pipedStrings.Count == 0)
            {
                Process(_pipedFiles[0], pipedBody: null);
            }

            FinishAll();
            if (_pipedStrings.Count > 1)
            {
                ThrowTerminatingError(NewError(AosErrorIds.AmbiguousPipelineInput, AosErrorCategory.InvalidArgument,
                    $"{_pipedStrings.Count} strings were piped to {MyInvocation.MyCommand.Name}, and a piped string is the body of one message: "
                    + "several (the lines Get-Content writes, say) are not sent, neither as a message per line nor as one message. Nothing was sent. "
                    + "To send a file's text as the body, use -BodyPath <file> or Get-Content -Raw <file> | ...; to send several messages, pipe objects with a Body property (Import-Csv).",
                    target: null));
            }

            if (_pipedFiles.Count > 1 || (_pipedFiles.Count == 1 && _pipedStrings.Count > 0))
            {
                ThrowTerminatingError(NewError(AosErrorIds.AmbiguousPipelineInput, AosErrorCategory.InvalidArgument,
                    $"{_pipedFiles.Count} files were piped to {MyInvocation.MyCommand.Name}" + (_pipedStrings.Count > 0 ? $" together with {_pipedStrings.Count} strings" : "")
                    + ", and a piped file is an attachment of one message: several are not sent, neither as a message per file nor as one message. Nothing was sent. "
                    + "To send the files as attachments of one message, give them with -Attachments (Get-ChildItem *.txt).",
                    target: null));
            }
        }

        /// <summary>
        /// Whether a piped record has a property that binds a message parameter by name (To,
        /// Subject, Body... and their aliases, as the cmdlet declares them): a number or a process
        /// binds none, and would only repeat the command line's message once per record.
        /// </summary>
        private bool BindsMessageProperty(PSObject record)
        {
            _messagePropertyNames ??= new HashSet<string>(
                MyInvocation.MyCommand.Parameters.Values
                    .Where(p => p.ParameterSets.Values.Any(set => set.ValueFromPipelineByPropertyName))
                    .SelectMany(p => new[] { p.Name }.Concat(p.Aliases)),
                StringComparer.OrdinalIgnoreCase);
            return _messagePropertyNames.Any(name => record.Properties[name] is not null);
        }

        /// <summary>One message: bind, validate (no network), ShouldProcess, start its request; its result or error comes out in input order.</summary>
        private void Process(PSObject? record, string? pipedBody)
        {
            object? row = record;
            _current = new PendingRow(row);
            if (!CheckPipedMessage(row) || !CheckUnboundPriority(row)) return;
            AosMessage? message = BuildMessage(row, pipedBody);
            if (message is null) return;
            // Its content (a stream's temporary copy) is let go when the row is written (WriteRow) or given up (WarnUnfinished).
            _current.Message = message;

            // A draft named without new content keeps its saved content (AOS would replace it by the form's).
            bool keepSaved = message.DraftId is not null && message.Body is null && message.BodyPath is null && message.TextBody is null
                && !BodyAsHtml && message.Attachments.Count == 0 && message.InlineAttachments.Count == 0;

            AosPreparedSubmission prepared;
            try
            {
                prepared = AosFormBuilder.Prepare(message, Kind);
            }
            catch (AosException e)
            {
                WriteRowError(ToErrorRecord(e, row ?? e.Target));
                return;
            }

            // Written in the row's place, before its result or error: after the earlier rows' results.
            _current.Warnings = prepared.Warnings;
            _current.Description = DescribeTarget(prepared);
            _current.Prepared = prepared;
            if (!AdmitRow(message, prepared, row, out string? journalKey)) return;
            if (keepSaved && !WithSavedDraft(ref prepared, row)) return;
            if (!ShouldProcess(DescribeTarget(prepared), DescribeAction(prepared)))
            {
                Rows.Skip(_current);
                return;
            }

            EnsureLoggedIn();
            PendingRow pending = _current;
            Rows.Start(pending, BeginRow(journalKey, prepared), () => StartRow(pending, journalKey));
        }

        /// <summary>
        /// A draft sent as saved: its saved content is read before ShouldProcess, so -WhatIf and
        /// -Confirm name what would really go (its saved subject, Cc...). Reading is not sending:
        /// -WhatIf still sends and writes nothing. False, with the row's error, when it cannot be read.
        /// </summary>
        private bool WithSavedDraft(ref AosPreparedSubmission prepared, object? row)
        {
            EnsureLoggedIn();
            AosPreparedSubmission asGiven = prepared;
            try
            {
                prepared = Run(async (log, ct) =>
                {
                    byte[] saved = await Connection.ReadMessageAsync(Connection.DraftMailbox, asGiven.DraftId!, log, ct).ConfigureAwait(false);
                    AosPreparedSubmission withSaved = AosDraftContent.WithSavedContent(asGiven, saved);
                    log.Verbose($"No new body given: the saved content of draft {asGiven.DraftId} ({saved.Length} bytes) is kept: {DescribeTarget(withSaved)}.");
                    return withSaved;
                });
            }
            catch (AosException e)
            {
                WriteRowError(ToErrorRecord(e, row ?? e.Target));
                return false;
            }

            _current!.Prepared = prepared;
            _current.Description = DescribeTarget(prepared);
            return true;
        }

        /// <summary>The current row's error, found before any request (nothing was sent for it), written in its place among the rows.</summary>
        protected void WriteRowError(ErrorRecord error)
        {
            _current!.Refusal = error;
            Rows.Refuse(_current);
        }

        /// <summary>The current row's output when it needs no request (a journal's skipped row, say), written in its place among the rows.</summary>
        protected void WriteRowOutput(Action write)
        {
            _current!.Output = write;
            Rows.Skip(_current);
        }

        /// <summary>
        /// Ends the command with an error that makes the rest of it unusable: the rows already
        /// started are waited for and reported first, and the error says which rows were sent.
        /// </summary>
        protected void TerminateAfterRows(ErrorRecord error)
        {
            FinishAll();
            string verb = Kind == AosSubmitKind.Send ? "sent" : "saved";
            string sent = Rows.WrittenRows(AosRowState.Sent, AosRowState.SentNotRecorded);
            string maybe = Rows.WrittenRows(AosRowState.MaybeSent);
            string summary = (sent.Length == 0 ? $"No row of this command was {verb}" : $"Rows {verb} by this command: {sent}")
                + (maybe.Length == 0 ? "" : $"; rows that may have been {verb} (their outcome is unknown): {maybe}")
                + $"; row {Rows.Count + 1} and any after it were not {verb}.";
            var exception = (AosMailException)error.Exception;
            ThrowTerminatingError(new ErrorRecord(exception.WithMessage(exception.Message + " " + summary), exception.ErrorId, exception.Category, error.TargetObject));
        }

        private void FinishAll()
        {
            Rows.Finish();
            WriteRowProgress(null);
        }

        private void WaitForRow(Task work) => WaitFor(work, _log);

        /// <summary>Whether an error ends the command: -ErrorAction Stop, or $ErrorActionPreference = 'Stop' where it is not given.</summary>
        private bool StopOnError()
        {
            object? preference = MyInvocation.BoundParameters.TryGetValue("ErrorAction", out object? bound) ? bound : GetVariableValue("ErrorActionPreference");
            if (preference is PSObject wrapped) preference = wrapped.BaseObject;
            return preference is ActionPreference action ? action == ActionPreference.Stop
                : preference is not null && string.Equals(preference.ToString(), nameof(ActionPreference.Stop), StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>
        /// Starts the request(s) of one row, on the pipeline thread and in input order: the one place
        /// where a row's request begins (a journal writes its pending line there, in SubmitAsync).
        /// </summary>
        private Task<AosSubmitResult> StartRow(PendingRow row, string? journalKey)
        {
            AosPreparedSubmission prepared = row.Prepared!;
            return Start<AosSubmitResult>(async (log, progress, ct) =>
            {
                if (Kind == AosSubmitKind.Send)
                {
                    row.DraftId = prepared.DraftId;
                    return await SubmitAsync(prepared, journalKey, log, prepared.MayReportProgress ? progress : null, ct).ConfigureAwait(false);
                }

                AosDraftSaveResult draft = await Connection.SaveDraftAsync(prepared, log, ct).ConfigureAwait(false);
                row.DraftId = draft.DraftId;
                row.DraftProblem = draft.Problem;
                row.BccNotKept = draft.BccNotKept;
                return draft.Submit;
            }, _log, _log?.Progress is null || !prepared.MayReportProgress ? null : ProgressText.Upload(row.Message!, Kind == AosSubmitKind.Send));
        }

        private CountProgress? _rowsProgress;

        /// <summary>
        /// The progress of many rows: how many are done, sent or refused (a pipeline's total is not
        /// known in advance); completed (<paramref name="rowsDone"/> null) when the command ends.
        /// </summary>
        private void WriteRowProgress(long? rowsDone)
        {
            _rowsProgress ??= new CountProgress(0x406, Kind == AosSubmitKind.Send ? "Sending messages" : "Saving drafts", () => ProgressWanted);
            ProgressRecord? record = rowsDone is null ? _rowsProgress.Complete() : _rowsProgress.Next(rowsDone.Value, $"{rowsDone} rows done");
            if (record is not null) WriteProgress(record);
        }

        /// <summary>
        /// Writes one row's report, on the pipeline thread and in input order: its warnings, then
        /// its result and/or error as its state says. Every row comes here exactly once, or is named
        /// by <see cref="WarnUnfinished"/>.
        /// </summary>
        private void WriteRow(AosRow<PendingRow> row)
        {
            try
            {
                WriteRowProgress(row.Number);
                WriteRowReport(row);
            }
            finally
            {
                row.Item.Message?.ReleaseContent();
            }
        }

        private void WriteRowReport(AosRow<PendingRow> row)
        {
            PendingRow item = row.Item;
            foreach (string warning in item.Warnings)
            {
                WriteWarning(warning);
            }

            switch (row.State)
            {
                case AosRowState.RefusedBeforeWire:
                    WriteError(item.Refusal!);
                    return;
                case AosRowState.Skipped:
                    item.Output?.Invoke();
                    return;
                case AosRowState.NotSent:
                case AosRowState.MaybeSent:
                    Exception error = row.Error!;
                    if (error is OperationCanceledException && CancelToken.IsCancellationRequested) throw new PipelineStoppedException();
                    if (error is AosException e)
                    {
                        WriteError(ToErrorRecord(e, item.Target ?? e.Target));
                        return;
                    }

                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
                    return;
            }

            AosSubmitResult result = row.Result!;
            if (item.DraftProblem is not null)
            {
                WriteWarning($"The draft was saved, but its id could not be found: {item.DraftProblem}. Get-AosMessage -Mailbox {Connection.DraftMailbox} lists the drafts.");
            }

            if (item.BccNotKept)
            {
                WriteWarning($"The draft was saved without its Bcc ({string.Join(", ", item.Prepared!.Bcc)}): the server does not keep Bcc in drafts. "
                    + $"Give it again when you send the draft: Send-AosMessage -DraftId {item.DraftId ?? "<id>"} -Bcc ...");
            }

            if (EmitResult)
            {
                WriteObject(NewResult(item.Prepared!, item.Message!, item.DraftId, result.Submitted.LocalDateTime, result.Elapsed,
                    result.ServerAnswer, result.RequestBytes, result.SessionRenewed, settledAs: result.SettledAs));
            }

            if (row.State == AosRowState.SentNotRecorded)
            {
                AosException problem = result.NotRecorded!;
                WriteError(ToErrorRecord(new AosException(problem.ErrorId, problem.Category,
                    $"Row {row.Number} ({item.Description}) was sent. {problem.Message}", item.Target ?? problem.Target, problem), item.Target));
            }
        }

        /// <summary>
        /// The command stops (Ctrl+C, a terminating error, a downstream Select-Object -First) with rows
        /// whose reports were not written: their requests are cancelled, and each row that was sent,
        /// or may have been, is named through the host (a stopping pipeline takes no error records).
        /// </summary>
        private void WarnUnfinished()
        {
            // The row being written when Ctrl+C came did not get its report; under -ErrorAction Stop or
            // Select-Object -First the row being written did.
            bool includeInterrupted = CancelToken.IsCancellationRequested;
            StopProcessing();
            // Cancelled requests end at once; the wait only lets each settle, so it can be told as sent or not.
            List<AosRow<PendingRow>> rows = _rows!.TakeUnfinished(includeInterrupted, TimeSpan.FromSeconds(10));
            string verb = Kind == AosSubmitKind.Send ? "sent" : "saved";
            string command = MyInvocation.MyCommand.Name;
            foreach (var row in rows)
            {
                row.Item.Message?.ReleaseContent();
                string? state = row.State.WasSent() ? $"was {verb}; its result was not written"
                    : row.State.MayHaveBeenSent() ? $"may have been {verb}: its request was under way. Check before repeating it"
                    : null;
                if (state is null) continue;
                try
                {
                    Host.UI.WriteWarningLine($"{command} was stopped: row {row.Number} ({row.Item.Description}) {state}.");
                }
                catch (Exception)
                {
                    // A host without a UI to write to: the rows cannot be named, and stopping must not fail for it.
                }
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _rows is not null && (_rows.Held > 0 || CancelToken.IsCancellationRequested))
            {
                // Stopped between records, or by an error: the rows still held never had their reports written.
                WarnUnfinished();
            }

            base.Dispose(disposing);
        }

        /// <summary>What the cmdlet keeps of one pipeline record on its way through the row pipeline.</summary>
        private sealed class PendingRow
        {
            public PendingRow(object? target) => Target = target;

            /// <summary>The pipeline record: the target of its error.</summary>
            public object? Target { get; }

            /// <summary>What ShouldProcess named (subject and recipients).</summary>
            public string? Description { get; set; }
            public AosMessage? Message { get; set; }

            /// <summary>What was posted (a draft sent as saved: with its saved content).</summary>
            public AosPreparedSubmission? Prepared { get; set; }

            /// <summary>The checks' warnings, written before the row's result or error.</summary>
            public IReadOnlyList<string> Warnings { get; set; } = Array.Empty<string>();

            /// <summary>Why it was refused before the wire.</summary>
            public ErrorRecord? Refusal { get; set; }

            /// <summary>What a skipped row writes (a journal's earlier send, with -PassThru).</summary>
            public Action? Output { get; set; }

            public string? DraftId { get; set; }
            public string? DraftProblem { get; set; }

            /// <summary>A draft saved with Bcc that the stored draft does not hold.</summary>
            public bool BccNotKept { get; set; }
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

        /// <summary>What a row does before its request starts (Send-AosMessage -JournalPath: its pending line), or null.</summary>
        protected virtual Func<Task>? BeginRow(string? journalKey, AosPreparedSubmission prepared) => null;

        /// <summary>Sends or saves one row; Send-AosMessage records it in its journal around the request.</summary>
        protected virtual Task<AosSubmitResult> SubmitAsync(AosPreparedSubmission prepared, string? journalKey, IAosLog log,
            IAosProgress? progress, CancellationToken cancellationToken) =>
            Connection.SubmitAsync(prepared, log, progress, cancellationToken);

        /// <summary>The journal summary the results carry (Send-AosMessage -JournalPath), else null.</summary>
        protected AosJournalSummary? JournalSummary { get; set; }

        /// <summary>The result of one row, sent now or (skipped) by an earlier run.</summary>
        internal AosSendResult NewResult(AosPreparedSubmission prepared, AosMessage message, string? draftId, DateTime submitted,
            TimeSpan duration, string serverAnswer, long requestBytes, bool sessionRenewed, bool skipped = false, string? settledAs = null) =>
            new AosSendResult(
                Kind == AosSubmitKind.Send ? "Send" : "SaveDraft",
                prepared.To.ToArray(), prepared.Cc.ToArray(), prepared.Bcc.ToArray(), prepared.Subject,
                message.Attachments.Select(a => a.FileName).ToArray(), draftId,
                Connection.Server.AbsoluteUri, Connection.Account,
                submitted, duration, serverAnswer, requestBytes, sessionRenewed, skipped, JournalSummary, settledAs);

        /// <summary>
        /// A message piped in from Get-AosMessage binds DraftId only when it is a draft of this
        /// command's session: anything else (an Inbox message, another account's draft) is an
        /// error rather than a new message made of its subject and recipients.
        /// </summary>
        private bool CheckPipedMessage(object? row)
        {
            if (!(row is PSObject record && record.BaseObject is IAosStoredMessage stored)) return true;

            string verb = Kind == AosSubmitKind.Send ? "sent" : "saved as a draft";
            if (!stored.IsDraft)
            {
                WriteRowError(NewError(AosErrorIds.NotADraft, AosErrorCategory.InvalidArgument,
                    $"The message {stored.Id} is in '{stored.Mailbox}', not in the draft mailbox '{stored.Origin.DraftMailbox}', so it cannot be {verb} by id. "
                    + "To send new mail, give -Subject and -Body yourself instead of piping a message in.", row));
                return false;
            }

            if (!ReferenceEquals(stored.Origin, Connection))
            {
                WriteRowError(NewError(AosErrorIds.NotADraft, AosErrorCategory.InvalidArgument,
                    $"The draft {stored.Id} belongs to another session ({stored.Origin}), not to this command's ({Connection}); give that session with -Session.", row));
                return false;
            }

            return true;
        }

        /// <summary>
        /// A row's Priority that PowerShell could not convert is not bound at all (an optional
        /// parameter bound by property name is skipped when its conversion fails), so the message
        /// would go with no priority. The row's raw value is checked instead: a non-blank one
        /// that did not bind is not a priority. (BoundParameters cannot tell: it keeps a name
        /// bound from an earlier row.)
        /// </summary>
        private bool CheckUnboundPriority(object? row)
        {
            if (Priority.HasValue || !(row is PSObject record)) return true;
            object? raw = record.Properties[nameof(Priority)]?.Value;
            string text = raw is null ? "" : LanguagePrimitives.ConvertTo<string>(raw) ?? "";
            if (string.IsNullOrWhiteSpace(text)) return true;

            WriteRowError(NewError(AosErrorIds.InvalidPriority, AosErrorCategory.InvalidArgument,
                $"'{text}' is not a priority: give Highest, High, Normal, Low or Lowest, or 1 (highest) to 5 (lowest), or leave the cell empty. Nothing was sent for this row.", row));
            return false;
        }

        /// <summary>Binds the parameters into an engine message; null after writing an error.</summary>
        private AosMessage? BuildMessage(object? row, string? pipedBody)
        {
            var message = new AosMessage
            {
                Subject = Subject,
                Body = Body ?? pipedBody,
                BodyIsHtml = BodyAsHtml,
                BodyEncoding = Encoding,
                TextBody = TextBody,
                Priority = Priority.HasValue ? (int)Priority.Value : (int?)null,
                KeepCopy = KeepCopyRequested,
                DraftId = string.IsNullOrWhiteSpace(DraftId) ? null : DraftId,
                // The account is who sends: the receipt comes back to it.
                ReadReceiptTo = RequestReadReceipt ? Connection.Account : null,
            };

            // Blank entries are "none" rather than errors: a CSV with a Cc column has empty cells.
            AddNonBlank(message.To, ToRecipients);
            AddNonBlank(message.Cc, Cc);
            AddNonBlank(message.Bcc, Bcc);
            AddNonBlank(message.ReplyTo, ReplyTo);
            try
            {
                if (!string.IsNullOrWhiteSpace(BodyPath))
                {
                    message.BodyPath = ResolvePath(BodyPath!) ?? throw new AosException(AosErrorIds.BodyFileNotFound, AosErrorCategory.ObjectNotFound,
                        $"The body file '{BodyPath}' is not a file-system path.", BodyPath);
                }

                foreach (KeyValuePair<string, string> header in HeaderList.From(Header))
                {
                    message.Headers.Add(header);
                }

                var attachments = new AttachmentInput(ResolvePath);
                foreach (AosAttachment? attachment in (pipedBody is null ? Attachments : _commandLineAttachments) ?? Array.Empty<AosAttachment>())
                {
                    if (attachment is null || attachment.IsBlank) continue;
                    foreach (AosAttachmentSource source in attachments.ToSources(attachment)) message.Attachments.Add(source);
                }

                foreach (KeyValuePair<string, AosAttachmentSource> inline in attachments.Inline(InlineAttachments))
                {
                    message.InlineAttachments.Add(inline);
                }
            }
            catch (AosException e)
            {
                WriteRowError(ToErrorRecord(e, row ?? e.Target));
                return null;
            }

            return message;
        }

        /// <summary>
        /// A provider path resolved against the current PowerShell location (not the process
        /// directory); null when it is not a file-system path. Whether the file exists is the
        /// engine's to check.
        /// </summary>
        private string? ResolvePath(string path) => FileSystemPath.Resolve(SessionState, path);

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
                ThrowTerminatingError(ToErrorRecord(e, AosConnection.ShownServer(Server ?? Connection.Server)));
            }
        }

        /// <summary>The message as ShouldProcess and the stop warnings name it (a draft sent as saved: with its saved content).</summary>
        internal static string DescribeTarget(AosPreparedSubmission prepared)
        {
            var parts = new List<string>();
            if (prepared.To.Count > 0) parts.Add("to " + string.Join(", ", prepared.To));
            if (prepared.Cc.Count > 0) parts.Add("cc " + string.Join(", ", prepared.Cc));
            if (prepared.Bcc.Count > 0) parts.Add("bcc " + string.Join(", ", prepared.Bcc));
            if (prepared.AttachmentCount > 0) parts.Add(prepared.AttachmentCount == 1 ? "1 attachment" : prepared.AttachmentCount + " attachments");
            string subject = !string.IsNullOrEmpty(prepared.Subject) ? "'" + prepared.Subject + "'" : "(no subject)";
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
