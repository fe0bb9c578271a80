using System;
using AosMail.Engine;

namespace AosMail
{
    /// <summary>
    /// One message of a mailbox listing (openbox, docs/aos-protocol.md B17): emitted by Get-AosMessage without -Id.
    /// Pipes into Get-AosMessage and Save-AosMessage (Id, Mailbox) and, for drafts, into
    /// Send-AosMessage and Save-AosDraft (DraftId).
    /// </summary>
    public sealed class AosMessageInfo : IAosStoredMessage
    {
        internal AosMessageInfo(AosListedMessage listed, string mailbox, AosConnection origin)
        {
            Id = listed.Id;
            Mailbox = mailbox;
            Subject = listed.Subject;
            From = listed.From;
            To = listed.To;
            Size = listed.Size;
            Date = listed.Date.ToLocalTime();
            Excerpt = listed.Excerpt;
            ContentType = listed.ContentType;
            IsRead = listed.IsRead;
            Origin = origin;
            UserName = origin.Account;
            IsDraft = string.Equals(mailbox, origin.DraftMailbox, StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>The connection the listing came from: piped rows are read through it.</summary>
        AosConnection IAosStoredMessage.Origin => Origin;

        internal AosConnection Origin { get; }

        /// <summary>The server's id of the message in its mailbox.</summary>
        public string Id { get; }
        public string Mailbox { get; }

        /// <summary>The subject, RFC 2047 decoded.</summary>
        public string Subject { get; }
        public string From { get; }

        /// <summary>The recipients as listed; null from a server that lists six fields only.</summary>
        public string? To { get; }

        /// <summary>Size in bytes, as the server lists it.</summary>
        public long Size { get; }

        /// <summary>When the server stored the message, in local time (about_AosMail: Times); the listing gives Unix seconds.</summary>
        public DateTime Date { get; }

        /// <summary>The start of the text, on one line.</summary>
        public string Excerpt { get; }

        /// <summary>The top media type (text/plain, multipart/mixed ...); null from a six-field server.</summary>
        public string? ContentType { get; }

        /// <summary>True once read, false while new; null when the server does not say.</summary>
        public bool? IsRead { get; }

        /// <summary>The account whose mailbox this is.</summary>
        public string UserName { get; }

        /// <summary>True when the mailbox is the session's draft mailbox (B18).</summary>
        public bool IsDraft { get; }

        /// <summary>The Id when this is a draft (so that drafts pipe into Send-AosMessage and Save-AosDraft), else null.</summary>
        public string? DraftId => IsDraft ? Id : null;

        public override string ToString() => $"{Id} '{Subject}'";
    }
}
