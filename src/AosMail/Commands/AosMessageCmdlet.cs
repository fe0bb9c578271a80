using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using AosMail.Engine;
using AosMail.Internal;
using Microsoft.PowerShell.Commands;

namespace AosMail.Commands
{
    /// <summary>
    /// The message parameters Send-AosMessage and Save-AosDraft share, and the one flow both follow
    /// for each pipeline record: bind, validate (no network), ShouldProcess and start its request
    /// on the pipeline thread, in input order; then, through a <see cref="RequestWindow{TRow}"/>
    /// that keeps up to <see cref="RowsInFlight"/> requests in flight, its result or error, in input order.
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

        /// <summary>How many rows may have their requests in flight at once (1: each row's request ends before the next row is read).</summary>
        protected virtual int RowsInFlight => 1;

        private RequestWindow<PendingRow>? _window;
        private QueuedLog? _log;
        private long _rowCount;

        private RequestWindow<PendingRow> Window => _window ??= new RequestWindow<PendingRow>(RowsInFlight);

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            // One queue for every row's log lines; upload progress only when one request runs at a time.
            _log = NewLog(withProgress: RowsInFlight == 1);
        }

        protected override void ProcessRecord()
        {
            object? row = InputObject?.BaseObject is string ? null : InputObject;
            long number = ++_rowCount;

            ErrorRecord? invalid = CheckPipedMessage(row);
            AosMessage? message = invalid is null ? BuildMessage(row, out invalid) : null;
            AosPreparedSubmission? prepared = null;
            string? token = null;
            bool keepSaved = false;
            if (message is not null)
            {
                // Draft ids: each save carries a fresh token, so its new id can be found (SaveDraftAsync).
                token = Kind == AosSubmitKind.SaveDraft ? AosConnection.StampDraftToken(message) : null;
                // A draft named without new content keeps its saved content (AOS would replace it by the form's).
                keepSaved = message.DraftId is not null && Body is null && !(InputObject?.BaseObject is string)
                    && !BodyAsHtml && message.Attachments.Count == 0;
                try
                {
                    prepared = AosFormBuilder.Prepare(message, Kind);
                }
                catch (AosException e)
                {
                    invalid = ToErrorRecord(e, row ?? e.Target);
                }
            }

            if (invalid is not null)
            {
                // Nothing is sent for it; its error is written in its place among the rows.
                Queue(new PendingRow(number, row, null, null, null) { Invalid = invalid }, Task.CompletedTask);
                return;
            }

            if (!ShouldProcess(DescribeTarget(prepared!), DescribeAction(prepared!))) return;

            EnsureLoggedIn();
            var pending = new PendingRow(number, row, DescribeTarget(prepared!), message!, prepared!);
            Queue(pending, StartRow(pending, token, keepSaved));
        }

        protected override void EndProcessing()
        {
            foreach (var (row, work) in Window.TakeFinished(WaitForRow, keep: 0))
            {
                FinishRow(row, work);
            }
        }

        /// <summary>Adds a row to the window, then writes the finished rows at its head, waiting for the oldest while the window is full.</summary>
        private void Queue(PendingRow row, Task work)
        {
            Window.Add(row, work);
            foreach (var (finished, done) in Window.TakeFinished(WaitForRow, keep: Window.Limit - 1))
            {
                FinishRow(finished, done);
            }
        }

        private void WaitForRow(Task work) => WaitFor(work, _log);

        /// <summary>
        /// Starts the request(s) of one row, on the pipeline thread and in input order: the one place
        /// where a row's request begins.
        /// </summary>
        private Task<RowOutcome> StartRow(PendingRow row, string? token, bool keepSaved)
        {
            AosPreparedSubmission prepared = row.Prepared!;
            return Start<RowOutcome>(async (log, progress, ct) =>
            {
                if (keepSaved)
                {
                    byte[] saved = await Connection.ReadMessageAsync(Connection.DraftMailbox, prepared.DraftId!, log, ct).ConfigureAwait(false);
                    prepared = AosDraftContent.WithSavedContent(prepared, saved);
                    log.Verbose($"No new body given: the saved content of draft {prepared.DraftId} ({saved.Length} bytes) is kept.");
                }

                if (token is null)
                {
                    AosSubmitResult result = await Connection.SubmitAsync(prepared, log, prepared.MayReportProgress ? progress : null, ct).ConfigureAwait(false);
                    return new RowOutcome(prepared, result, prepared.DraftId, null);
                }

                AosDraftSaveResult draft = await Connection.SaveDraftAsync(prepared, token, log, ct).ConfigureAwait(false);
                return new RowOutcome(prepared, draft.Submit, draft.DraftId, draft.Problem);
            }, _log);
        }

        /// <summary>
        /// Writes one row's result or error, on the pipeline thread and in input order: the one place
        /// where a row ends. Every row ends here exactly once, or is named by <see cref="WarnUnfinished"/>.
        /// </summary>
        private void FinishRow(PendingRow row, Task work)
        {
            try
            {
                if (row.Invalid is not null)
                {
                    WriteError(row.Invalid);
                    return;
                }

                RowOutcome outcome;
                try
                {
                    outcome = Result((Task<RowOutcome>)work);
                }
                catch (AosException e)
                {
                    WriteError(ToErrorRecord(e, row.Target ?? e.Target));
                    return;
                }

                if (outcome.DraftProblem is not null)
                {
                    WriteWarning($"The draft was saved, but its id could not be found: {outcome.DraftProblem}. Get-AosMessage -Mailbox {Connection.DraftMailbox} lists the drafts.");
                }

                if (EmitResult)
                {
                    AosPreparedSubmission prepared = outcome.Prepared;
                    AosSubmitResult result = outcome.Result;
                    WriteObject(new AosSendResult(
                        Kind == AosSubmitKind.Send ? "Send" : "SaveDraft",
                        prepared.To.ToArray(), prepared.Cc.ToArray(), prepared.Bcc.ToArray(), prepared.Subject,
                        row.Message!.Attachments.Select(Path.GetFileName).ToArray(), outcome.DraftId,
                        Connection.Server.AbsoluteUri, Connection.Account,
                        result.Submitted.LocalDateTime, result.Elapsed, result.ServerAnswer, result.RequestBytes, result.SessionRenewed));
                }
            }
            catch (PipelineStoppedException) when (CancelToken.IsCancellationRequested)
            {
                // Stopped (not an error escalated by -ErrorAction Stop, which also ends this way once written).
                WarnUnfinished(row, work);
                throw;
            }
        }

        /// <summary>
        /// The command stops (Ctrl+C, a terminating error, a downstream Select-Object -First) with rows
        /// whose results were not written: their requests are cancelled, and each row that was sent,
        /// or may have been, is named through the host (a stopping pipeline takes no error records).
        /// </summary>
        private void WarnUnfinished(PendingRow? current, Task? currentWork)
        {
            var rows = new List<(PendingRow Row, Task Work)>();
            if (current is not null) rows.Add((current, currentWork!));
            if (_window is not null) rows.AddRange(_window.TakeAll());
            if (rows.Count == 0) return;

            StopProcessing();
            Task[] works = rows.Select(r => r.Work).ToArray();
            try
            {
                // Cancelled requests end at once; the wait only lets each settle, so it can be told as sent or not.
                Task.WaitAll(works, TimeSpan.FromSeconds(10));
            }
            catch (AggregateException)
            {
            }

            string verb = Kind == AosSubmitKind.Send ? "sent" : "saved";
            string command = MyInvocation.MyCommand.Name;
            foreach (var (row, work) in rows)
            {
                string? state = row.Invalid is not null ? null
                    : work.Status == TaskStatus.RanToCompletion ? $"was {verb}; its result was not written"
                    : work.Exception?.InnerException is AosException e && e.ErrorId != AosErrorIds.OutcomeUnknown ? null
                    : $"may have been {verb}: its request was under way. Check before repeating it";
                if (state is null) continue;
                try
                {
                    Host.UI.WriteWarningLine($"{command} was stopped: row {row.Number} ({row.Description}) {state}.");
                }
                catch (Exception)
                {
                    // A host without a UI to write to: the rows cannot be named, and stopping must not fail for it.
                }
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _window is not null && _window.Count > 0)
            {
                // Stopped between records, or by an error: the rows still in the window never reached FinishRow.
                WarnUnfinished(null, null);
            }

            base.Dispose(disposing);
        }

        /// <summary>One pipeline record on its way through the window.</summary>
        private sealed class PendingRow
        {
            public PendingRow(long number, object? target, string? description, AosMessage? message, AosPreparedSubmission? prepared)
            {
                Number = number;
                Target = target;
                Description = description;
                Message = message;
                Prepared = prepared;
            }

            /// <summary>Its place in the input, from 1.</summary>
            public long Number { get; }

            /// <summary>The pipeline record: the target of its error.</summary>
            public object? Target { get; }

            /// <summary>What ShouldProcess named (subject and recipients).</summary>
            public string? Description { get; }
            public AosMessage? Message { get; }
            public AosPreparedSubmission? Prepared { get; }

            /// <summary>An error found before any request: nothing was sent for this row.</summary>
            public ErrorRecord? Invalid { get; set; }
        }

        /// <summary>What a row's request(s) came to.</summary>
        private sealed class RowOutcome
        {
            public RowOutcome(AosPreparedSubmission prepared, AosSubmitResult result, string? draftId, string? draftProblem)
            {
                Prepared = prepared;
                Result = result;
                DraftId = draftId;
                DraftProblem = draftProblem;
            }

            public AosPreparedSubmission Prepared { get; }
            public AosSubmitResult Result { get; }
            public string? DraftId { get; }
            public string? DraftProblem { get; }
        }

        /// <summary>
        /// A message piped in from Get-AosMessage binds DraftId only when it is a draft of this
        /// command's session: anything else (an Inbox message, another account's draft) is an
        /// error rather than a new message made of its subject and recipients.
        /// </summary>
        private ErrorRecord? CheckPipedMessage(object? row)
        {
            if (!(InputObject?.BaseObject is IAosStoredMessage stored)) return null;

            string verb = Kind == AosSubmitKind.Send ? "sent" : "saved as a draft";
            if (!stored.IsDraft)
            {
                return NewError(AosErrorIds.NotADraft, AosErrorCategory.InvalidArgument,
                    $"The message {stored.Id} is in '{stored.Mailbox}', not in the draft mailbox '{stored.Origin.DraftMailbox}', so it cannot be {verb} by id. "
                    + "To send new mail, give -Subject and -Body yourself instead of piping a message in.", row);
            }

            if (!ReferenceEquals(stored.Origin, Connection))
            {
                return NewError(AosErrorIds.NotADraft, AosErrorCategory.InvalidArgument,
                    $"The draft {stored.Id} belongs to another session ({stored.Origin}), not to this command's ({Connection}); give that session with -Session.", row);
            }

            return null;
        }

        /// <summary>Binds the parameters into an engine message; null with the error in <paramref name="invalid"/>.</summary>
        private AosMessage? BuildMessage(object? row, out ErrorRecord? invalid)
        {
            invalid = null;
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
                    invalid = NewError(AosErrorIds.AttachmentNotFound, AosErrorCategory.ObjectNotFound,
                        $"The attachment '{path}' was not found (looked for the file '{SafeUnresolved(path)}'). Nothing was sent.",
                        row ?? path);
                    return null;
                }

                message.Attachments.Add(resolved);
            }

            return message;
        }

        /// <summary>Resolves a provider path against the current PowerShell location (not the process directory).</summary>
        private string? ResolveAttachment(string path)
        {
            try
            {
                string full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out ProviderInfo provider, out _);
                return provider.ImplementingType == typeof(FileSystemProvider) && File.Exists(full) ? full : null;
            }
            catch (Exception e) when (e is ItemNotFoundException || e is ProviderNotFoundException || e is System.Management.Automation.DriveNotFoundException
                || e is NotSupportedException || e is ArgumentException || e is PSInvalidOperationException)
            {
                return null;
            }
        }

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

        private static string DescribeTarget(AosPreparedSubmission prepared)
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
