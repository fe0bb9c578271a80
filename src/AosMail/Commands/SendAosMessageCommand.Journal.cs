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

        /// <summary>
        /// Sends the rows whose earlier outcome is unknown again (after the author has checked they did not arrive);
        /// with -KeepCopy, only the rows the Outbox shows were not sent, once.
        /// </summary>
        [Parameter]
        public SwitchParameter RetryUnknown { get; set; }

        private AosSendJournal? _journal;

        /// <summary>Settles the rows whose outcome is unknown against the Outbox (-KeepCopy).</summary>
        private AosOutboxSettler? _settler;

        /// <summary>Rows admitted to be settled against the Outbox before anything is sent: an earlier run's attempt, by journal key.</summary>
        private readonly System.Collections.Generic.Dictionary<string, (AosJournalEntry Earlier, AosException Unknown)> _settleEarlier =
            new System.Collections.Generic.Dictionary<string, (AosJournalEntry, AosException)>(StringComparer.Ordinal);

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            _settler = new AosOutboxSettler(Connection, RetryUnknown);
            if (JournalPath is null)
            {
                if (JournalKey is not null || (RetryUnknown && !KeepCopy && !Connection.OutboxKeepsCopies))
                {
                    ThrowTerminatingError(NewError(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                        "-JournalKey works with a journal, and -RetryUnknown with a journal or -KeepCopy: give -JournalPath too.", JournalKey));
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
                key = JournalKey is null ? AosJournalKey.Of(message, prepared) : KeyOfRow();
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
            // An earlier attempt that kept a copy is looked for in the Outbox first, -RetryUnknown or not.
            AosJournalEntry? recorded = _journal.Find(key);
            bool settleFirst = (KeepCopy || Connection.OutboxKeepsCopies) && recorded is not null && recorded.KeptCopy
                && (recorded.State == AosJournalState.Pending || recorded.State == AosJournalState.Unknown);
            switch (_journal.Admit(key, RetryUnknown && !settleFirst, out AosJournalEntry? earlier))
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

                case AosJournalVerdict.OutcomeUnknown when settleFirst:
                    WriteVerbose($"The outcome of the attempt to send {what} at {Shown(earlier!.Attempted)} is unknown; looking for its copy in the Outbox.");
                    _settleEarlier[key] = (earlier, new AosException(AosErrorIds.OutcomeUnknown, AosErrorCategory.InvalidOperation,
                        $"The outcome of the earlier attempt to send {what} at {Shown(earlier.Attempted)} is unknown: {EarlierCause(earlier)}. "
                        + "It was not sent again, so that it is not sent twice.", row ?? key));
                    journalKey = key;
                    return true;

                case AosJournalVerdict.OutcomeUnknown:
                    WriteRowError(NewError(AosErrorIds.OutcomeUnknown, AosErrorCategory.InvalidOperation,
                        $"The outcome of the earlier attempt to send {what} at {Shown(earlier!.Attempted)} is unknown: {EarlierCause(earlier)}. "
                        + "It was not sent again, so that it is not sent twice. Check the Outbox or with a recipient; "
                        + "to send the rows whose outcome is unknown, run again with -RetryUnknown"
                        + (earlier.KeptCopy ? " (or with -KeepCopy, to let the module look for it in the Outbox)." : "."), row ?? key));
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
        /// A row an earlier run left unknown has none here: settling it first decides whether it is sent
        /// again, and a resend writes its own pending line right before its request.
        /// </summary>
        protected override Func<Task>? BeginRow(string? journalKey, AosPreparedSubmission prepared) =>
            _journal is null || journalKey is null || _settleEarlier.ContainsKey(journalKey) ? null
                : () => _journal.BeginAsync(journalKey, _settler!.KeepsCopy(prepared));

        /// <summary>
        /// The journal starts the request (its pending line written by <see cref="BeginRow"/> when one
        /// row goes at a time, else by the journal here, shared with the rows started meanwhile) and
        /// queues the sent line for the next flush: the row pipeline writes the result once it is on disk.
        /// </summary>
        protected override Task<AosSubmitResult> SubmitAsync(AosPreparedSubmission prepared, string? journalKey, IAosLog log,
            IAosProgress? progress, CancellationToken cancellationToken)
        {
            if (_journal is null || journalKey is null)
            {
                return _settler!.SendAsync(prepared, log, progress, cancellationToken);
            }

            if (_settleEarlier.TryGetValue(journalKey, out var settle))
            {
                _settleEarlier.Remove(journalKey);
                return _settler!.SettleEarlierAsync(_journal, settle.Earlier, settle.Unknown, prepared, log, progress, cancellationToken);
            }

            return _journal.SubmitAsync(journalKey, () => _settler!.SendAsync(prepared, log, progress, cancellationToken), shareSentFlush: true, keepsCopy: _settler!.KeepsCopy(prepared));
        }

        private static string EarlierCause(AosJournalEntry earlier) =>
            earlier.State == AosJournalState.Pending ? "the run that made it ended before the server answered" : $"it ended with {earlier.ErrorId}";

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
