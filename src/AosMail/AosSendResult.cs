using System;
using System.Collections.Generic;

namespace AosMail
{
    /// <summary>What one send or draft save did: emitted by Send-AosMessage -PassThru and by Save-AosDraft.</summary>
    public sealed class AosSendResult
    {
        internal AosSendResult(string action, IEnumerable<string> to, IEnumerable<string> cc, IEnumerable<string> bcc, string? subject, IEnumerable<string> attachments,
            string? draftId, string server, string userName, DateTime submitted, TimeSpan duration, string serverAnswer,
            long requestBytes, bool sessionRenewed, bool skipped, AosJournalSummary? journal, string? settledAs = null)
        {
            SettledAs = settledAs;
            Action = action;
            To = new AosStringList(to);
            Cc = new AosStringList(cc);
            Bcc = new AosStringList(bcc);
            Subject = subject;
            Attachments = new AosStringList(attachments);
            DraftId = draftId;
            Server = server;
            UserName = userName;
            Submitted = submitted;
            Duration = duration;
            ServerAnswer = serverAnswer;
            RequestBytes = requestBytes;
            SessionRenewed = sessionRenewed;
            Skipped = skipped;
            Journal = journal;
        }

        /// <summary>"Send" or "SaveDraft".</summary>
        public string Action { get; }
        public AosStringList To { get; }
        public AosStringList Cc { get; }
        public AosStringList Bcc { get; }
        public string? Subject { get; }

        /// <summary>The attached files' names (not their full paths).</summary>
        public AosStringList Attachments { get; }

        /// <summary>The draft overwritten or sent, when one was named.</summary>
        public string? DraftId { get; }
        public string Server { get; }
        public string UserName { get; }

        /// <summary>When the server confirmed the send, in local time (about_AosMail: Times); for a skipped row, when the earlier run's send was confirmed.</summary>
        public DateTime Submitted { get; }
        public TimeSpan Duration { get; }

        /// <summary>The server's answer (OK).</summary>
        public string ServerAnswer { get; }
        public long RequestBytes { get; }

        /// <summary>True when the session had expired and was renewed before this submission.</summary>
        public bool SessionRenewed { get; }

        /// <summary>True when the journal showed the row sent by an earlier run, so it was not sent again.</summary>
        public bool Skipped { get; }

        /// <summary>
        /// Set when the server's answer was lost and the send was settled by its copy in the Outbox
        /// (-KeepCopy, about_AosMail_Journal): that copy's id; else null.
        /// </summary>
        public string? SettledAs { get; }

        /// <summary>With -JournalPath: the journal and the run's counts (final once the command has ended); else null.</summary>
        public AosJournalSummary? Journal { get; }

        public override string ToString() => $"{(Skipped ? "Skipped " : "")}{Action} '{Subject}' to {To}";
    }
}
