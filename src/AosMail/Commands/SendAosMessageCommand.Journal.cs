using System;
using System.Globalization;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>
    /// Send-AosMessage -JournalPath: each row's outcome is recorded in a journal (AosSendJournal), so
    /// that a rerun of the same rows sends only those that did not go: a row sent before is skipped,
    /// one whose earlier outcome is unknown is reported (unless -RetryUnknown), a failed one is sent.
    /// </summary>
    public sealed partial class SendAosMessageCommand
    {
        /// <summary>The journal file: created when missing, appended to by each run.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? JournalPath { get; set; }

        /// <summary>The input row's property that identifies it; without it a row is keyed by its content.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? JournalKey { get; set; }

        /// <summary>Sends the rows whose earlier outcome is unknown again (after the author has checked they did not arrive).</summary>
        [Parameter]
        public SwitchParameter RetryUnknown { get; set; }

        private AosSendJournal? _journal;

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (JournalPath is null)
            {
                if (JournalKey is not null || RetryUnknown)
                {
                    ThrowTerminatingError(NewError(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                        "-JournalKey and -RetryUnknown work with a journal: give -JournalPath too.", JournalKey));
                }

                return;
            }

            string? path = FileSystemPath.Resolve(SessionState, JournalPath);
            if (path is null)
            {
                ThrowTerminatingError(NewError(AosErrorIds.InvalidPath, AosErrorCategory.InvalidArgument,
                    $"The journal path '{JournalPath}' is not a file-system path.", JournalPath));
            }

            try
            {
                // -WhatIf reads the journal to show what a run would do, and creates or writes nothing.
                string keyBy = JournalKey is null ? AosSendJournal.KeyByContent : AosSendJournal.KeyByProperty(JournalKey);
                _journal = AosSendJournal.Open(path!, Connection.Server, Connection.Account, keyBy, readOnly: WhatIfRequested());
            }
            catch (AosException e)
            {
                ThrowTerminatingError(ToErrorRecord(e, JournalPath));
            }

            JournalSummary = new AosJournalSummary(_journal!);
            WriteVerbose($"Journal {path}: {_journal!.RecordedKeys} row(s) recorded by earlier runs."
                + (_journal.DroppedIncompleteLine ? " Its last line was incomplete (the process ended while writing it) and was dropped." : ""));
        }

        protected override void EndProcessing()
        {
            // A single piped string is sent here, so the journal must still be open.
            base.EndProcessing();
            if (_journal is null) return;
            WriteVerbose($"Journal {_journal.Path}: {_journal.Sent} sent, {_journal.Skipped} skipped (sent by an earlier run), "
                + $"{_journal.Unknown} unknown (not sent again), {_journal.Failed} failed (nothing sent).");
            _journal.Dispose();
        }

        protected override bool AdmitRow(AosMessage message, AosPreparedSubmission prepared, object? row, out string? journalKey)
        {
            journalKey = null;
            if (_journal is null) return true;
            if (_journal.Broken is AosException broken)
            {
                // The journal missed a record: sending on would leave rows it cannot account for.
                TerminateAfterRows(ToErrorRecord(broken, JournalPath));
            }

            string? key;
            try
            {
                key = JournalKey is null ? AosJournalKey.Of(message) : KeyOfRow();
            }
            catch (AosException e)
            {
                WriteRowError(ToErrorRecord(e, row ?? e.Target));
                return false;
            }

            if (key is null)
            {
                bool hasProperty = InputObject?.Properties[JournalKey!] is not null;
                WriteRowError(NewError(AosErrorIds.JournalKeyMissing, AosErrorCategory.InvalidData,
                    (hasProperty ? $"This row's '{JournalKey}' (named by -JournalKey) is empty" : $"This row has no property '{JournalKey}' (named by -JournalKey)")
                    + ", so the journal could not record it. It was not sent.", row ?? message.Subject));
                return false;
            }

            string what = JournalKey is null
                ? $"the message {DescribeTarget(prepared)}"
                : $"the row with {JournalKey} '{key}'";
            switch (_journal.Admit(key, RetryUnknown, out AosJournalEntry? earlier))
            {
                case AosJournalVerdict.AlreadySent:
                    WriteVerbose($"Skipped {what}: sent at {Shown(earlier!.Time)}, says the journal.");
                    AosSendResult? skipped = PassThru
                        ? NewResult(prepared, message, prepared.DraftId, earlier.Time.LocalDateTime, TimeSpan.Zero,
                            earlier.Answer ?? "", requestBytes: 0, sessionRenewed: false, skipped: true)
                        : null;
                    WriteRowOutput(() =>
                    {
                        if (skipped is not null) WriteObject(skipped);
                    });
                    return false;

                case AosJournalVerdict.OutcomeUnknown:
                    string cause = earlier!.State == AosJournalState.Pending
                        ? "the run that made it ended before the server answered"
                        : $"it ended with {earlier.ErrorId}";
                    WriteRowError(NewError(AosErrorIds.OutcomeUnknown, AosErrorCategory.InvalidOperation,
                        $"The outcome of the earlier attempt to send {what} at {Shown(earlier.Attempted)} is unknown: {cause}. "
                        + "It was not sent again, so that it is not sent twice. Check the Outbox or with a recipient; "
                        + "to send the rows whose outcome is unknown, run again with -RetryUnknown.", row ?? key));
                    return false;

                case AosJournalVerdict.DuplicateKey:
                    WriteRowError(NewError(AosErrorIds.JournalDuplicateKey, AosErrorCategory.InvalidData,
                        JournalKey is null
                            ? $"This row is the same message as an earlier row of this run ({DescribeTarget(prepared)}), so it was not sent: "
                                + "the journal could not tell the two apart. To send identical messages on purpose, name a column that tells the rows apart with -JournalKey."
                            : $"An earlier row of this run has the same {JournalKey} '{key}', so this row was not sent: "
                                + "the journal could not tell the two apart. Each row needs its own key.",
                        row ?? key));
                    return false;
            }

            if (earlier?.State == AosJournalState.Failed)
            {
                WriteVerbose($"Sending {what} again: the attempt at {Shown(earlier.Attempted)} failed ({earlier.ErrorId}) with nothing sent.");
            }
            else if (earlier is not null)
            {
                WriteVerbose($"Sending {what} again (-RetryUnknown): the outcome of the attempt at {Shown(earlier.Attempted)} was unknown.");
            }

            journalKey = key;
            return true;
        }

        /// <summary>
        /// The row's pending line, on disk before its request starts; its flush also puts on disk the
        /// sent lines of the rows that ended before it, whose results the row pipeline writes then.
        /// </summary>
        protected override Func<Task>? BeginRow(string? journalKey) =>
            _journal is null || journalKey is null ? null : () => _journal.BeginAsync(journalKey);

        /// <summary>
        /// The journal starts the request (its pending line written by <see cref="BeginRow"/> when one
        /// row goes at a time, else by the journal here, shared with the rows started meanwhile) and
        /// queues the sent line for the next flush: the row pipeline writes the result once it is on disk.
        /// </summary>
        protected override Task<AosSubmitResult> SubmitAsync(AosPreparedSubmission prepared, string? journalKey, IAosLog log,
            IAosProgress? progress, CancellationToken cancellationToken) =>
            _journal is null || journalKey is null
                ? base.SubmitAsync(prepared, journalKey, log, progress, cancellationToken)
                : _journal.SubmitAsync(journalKey, () => base.SubmitAsync(prepared, journalKey, log, progress, cancellationToken), shareSentFlush: true);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _journal?.Dispose();
            }

            base.Dispose(disposing);
        }

        /// <summary>The value of the -JournalKey property of the piped row, as text; null when it has none.</summary>
        private string? KeyOfRow()
        {
            object? value;
            try
            {
                value = InputObject?.Properties[JournalKey!]?.Value;
            }
            catch (GetValueException)
            {
                return null;
            }

            string? text = value is null ? null : LanguagePrimitives.ConvertTo<string>(value);
            return string.IsNullOrWhiteSpace(text) ? null : text;
        }

        private bool WhatIfRequested() =>
            MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? whatIf)
                ? ((SwitchParameter)whatIf).IsPresent
                : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

        private static string Shown(DateTimeOffset time) =>
            time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);
    }
}
