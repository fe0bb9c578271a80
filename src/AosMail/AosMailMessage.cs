using System;
using System.Linq;
using AosMail.Engine;

namespace AosMail
{
    /// <summary>A header of an <see cref="AosMailMessage"/>, its value RFC 2047 decoded.</summary>
    public sealed class AosMailHeader
    {
        internal AosMailHeader(string name, string value)
        {
            Name = name;
            Value = value;
        }

        public string Name { get; }
        public string Value { get; }

        public override string ToString() => Name + ": " + Value;
    }

    /// <summary>
    /// A whole message read with rdmail and parsed by MimeKit: emitted by Get-AosMessage -Id.
    /// Plain values only (no MimeKit types); -AsMimeMessage gives the MimeKit object instead.
    /// </summary>
    public sealed class AosMailMessage : IAosStoredMessage
    {
        internal AosMailMessage(string id, string mailbox, AosReadMessage read, AosConnection origin)
        {
            Id = id;
            Mailbox = mailbox;
            Subject = read.Subject;
            From = read.From;
            To = new AosStringList(read.To);
            Cc = new AosStringList(read.Cc);
            Date = read.Date?.LocalDateTime;
            MessageId = read.MessageId;
            ContentType = read.ContentType;
            TextBody = read.TextBody;
            HtmlBody = read.HtmlBody;
            BodyTruncated = read.BodyTruncated;
            AttachmentNames = new AosStringList(read.Attachments);
            Headers = read.Headers.Select(h => new AosMailHeader(h.Key, h.Value)).ToArray();
            Size = read.Size;
            Origin = origin;
            UserName = origin.Account;
            IsDraft = string.Equals(mailbox, origin.DraftMailbox, StringComparison.OrdinalIgnoreCase);
        }

        AosConnection IAosStoredMessage.Origin => Origin;

        internal AosConnection Origin { get; }

        public string Id { get; }
        public string Mailbox { get; }
        public string? Subject { get; }
        public string? From { get; }
        public AosStringList To { get; }
        public AosStringList Cc { get; }

        /// <summary>The Date header in local time (about_AosMail: Times); null without one.</summary>
        public DateTime? Date { get; }
        public string? MessageId { get; }
        public string? ContentType { get; }
        public string? TextBody { get; }
        public string? HtmlBody { get; }

        /// <summary>True when TextBody or HtmlBody holds only the first 4,194,304 characters of a larger body (Save-AosMessage saves all of it).</summary>
        public bool BodyTruncated { get; }

        /// <summary>The attachments' file names, in order (not named Attachments, so that a piped message never binds Send-AosMessage -Attachments).</summary>
        public AosStringList AttachmentNames { get; }
        public AosMailHeader[] Headers { get; }

        /// <summary>Size of the raw message in bytes.</summary>
        public long Size { get; }
        public string UserName { get; }
        public bool IsDraft { get; }
        public string? DraftId => IsDraft ? Id : null;

        public override string ToString() => $"{Id} '{Subject}'";
    }
}
