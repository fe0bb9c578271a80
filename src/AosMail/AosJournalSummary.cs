using AosMail.Engine;

namespace AosMail
{
    /// <summary>
    /// What Send-AosMessage -JournalPath did with the rows of one run, read from its journal as the
    /// run goes: every result of the run carries the same summary, complete once the command ends.
    /// </summary>
    public sealed class AosJournalSummary
    {
        private readonly AosSendJournal _journal;

        internal AosJournalSummary(AosSendJournal journal)
        {
            _journal = journal;
        }

        /// <summary>The journal file.</summary>
        public string Path => _journal.Path;

        /// <summary>Rows sent by this run.</summary>
        public int Sent => _journal.Sent;

        /// <summary>Rows skipped because an earlier run sent them.</summary>
        public int Skipped => _journal.Skipped;

        /// <summary>Rows whose outcome is unknown (in this run or an earlier attempt): not sent again.</summary>
        public int Unknown => _journal.Unknown;

        /// <summary>Rows that failed with nothing sent: a rerun sends them again.</summary>
        public int Failed => _journal.Failed;

        public override string ToString() => $"{Sent} sent, {Skipped} skipped, {Unknown} unknown, {Failed} failed";
    }
}
