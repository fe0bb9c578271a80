using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace AosMail.Engine
{
    /// <summary>How a stored message (a draft, a copy in the Outbox) is compared with a posted field.</summary>
    internal enum AosPartComparison
    {
        /// <summary>Not compared; the part's reason says why.</summary>
        None,

        /// <summary>The addr-specs of the stored header, in order, case-insensitively.</summary>
        Addresses,

        /// <summary>The stored header's RFC 2047-decoded text, whitespace collapsed.</summary>
        DecodedText,

        /// <summary>Each posted header line is among the stored headers (a MIME body's boundary is one of them).</summary>
        HeaderLines,

        /// <summary>
        /// The body's text (line breaks normalised, trailing whitespace ignored); a streamed body as it is written,
        /// unless mheader carries its boundary (a multipart body), which MimeKit made at random and so tells it apart.
        /// </summary>
        Body,
    }

    /// <summary>What sending a draft "as saved" (<see cref="AosDraftContent"/>) posts for a field.</summary>
    internal enum AosDraftResend
    {
        /// <summary>The command's value only; the saved draft plays no part.</summary>
        Command,

        /// <summary>The command's value when given, else the saved draft's header of the same meaning.</summary>
        SavedUnlessGiven,

        /// <summary>The saved draft's content unless the command gives a new body (the body after the header block).</summary>
        SavedBody,

        /// <summary>The command's lines, then the saved draft's own header lines (not those the server writes).</summary>
        CommandThenSaved,
    }

    /// <summary>One sdmailact field (docs/aos-protocol.md B5) as a part of a message.</summary>
    internal sealed class AosFieldPart
    {
        internal AosFieldPart(string field, string? storedHeader, bool keyed, AosPartComparison comparison, AosDraftResend resend, string reason)
        {
            Field = field;
            StoredHeader = storedHeader;
            Keyed = keyed;
            Comparison = comparison;
            Resend = resend;
            Reason = reason;
        }

        /// <summary>The form field's name (an <see cref="AosProtocol"/> Field constant).</summary>
        public string Field { get; }

        /// <summary>The header the server writes from this field into the stored message, or null when it writes none.</summary>
        public string? StoredHeader { get; }

        /// <summary>Whether the journal's content key covers the field (<see cref="AosJournalKey"/>).</summary>
        public bool Keyed { get; }

        public AosPartComparison Comparison { get; }
        public AosDraftResend Resend { get; }

        /// <summary>Why the field is keyed, compared and re-sent as it is, or left out.</summary>
        public string Reason { get; }
    }

    /// <summary>One public property of <see cref="AosMessage"/>: the field it is posted in.</summary>
    internal sealed class AosPropertyPart
    {
        internal AosPropertyPart(string property, string field, Func<AosMessage, IEnumerable<string?>>? bodySource, string reason)
        {
            Property = property;
            Field = field;
            BodySource = bodySource;
            Reason = reason;
        }

        /// <summary>The property's name on <see cref="AosMessage"/>.</summary>
        public string Property { get; }

        /// <summary>The form field the property is posted in; its <see cref="AosFieldPart"/> says whether it is keyed and compared.</summary>
        public string Field { get; }

        /// <summary>
        /// For a part of the body: the values the journal key hashes when the body is streamed (a MIME body is
        /// written only as it is sent, with a random boundary, so its sources are hashed instead: file contents, never paths).
        /// </summary>
        public Func<AosMessage, IEnumerable<string?>>? BodySource { get; }

        public string Reason { get; }
    }

    /// <summary>
    /// What makes a message, said once: each posted form field and each property of <see cref="AosMessage"/>,
    /// classified as keyed (the journal's content key, <see cref="AosJournalKey"/>), compared (a stored message
    /// against what was posted: draft-id discovery and settling, <see cref="AosConnection.MatchesPosted"/>),
    /// re-sent from a saved draft (<see cref="AosDraftContent"/>), or deliberately left out, each with its reason.
    /// A new field or property must be classified here (tests reflect over <see cref="AosProtocol.SubmitFieldOrder"/>
    /// and <see cref="AosMessage"/>).
    /// </summary>
    internal static class AosMessageParts
    {
        /// <summary>The sdmailact fields, in <see cref="AosProtocol.SubmitFieldOrder"/>.</summary>
        public static readonly IReadOnlyList<AosFieldPart> Fields = new[]
        {
            new AosFieldPart(AosProtocol.FieldApi, null, false, AosPartComparison.None, AosDraftResend.Command,
                "the same in every form: it asks for machine-readable answers"),
            new AosFieldPart(AosProtocol.FieldDraftId, null, true, AosPartComparison.None, AosDraftResend.Command,
                "keyed: sending draft d1 is another message than sending d2 or a new one; not compared: it names the stored message, whose content is compared"),
            new AosFieldPart(AosProtocol.FieldTo, "To", true, AosPartComparison.Addresses, AosDraftResend.Command,
                "the recipients; the server writes them as To"),
            new AosFieldPart(AosProtocol.FieldCc, "Cc", true, AosPartComparison.Addresses, AosDraftResend.SavedUnlessGiven,
                "the recipients; the server writes them as Cc"),
            new AosFieldPart(AosProtocol.FieldBcc, "Bcc", true, AosPartComparison.None, AosDraftResend.SavedUnlessGiven,
                "keyed: other recipients make another send; not compared: servers (AOS, the sandbox) keep no Bcc in a stored message"),
            new AosFieldPart(AosProtocol.FieldSubject, "Subject", true, AosPartComparison.DecodedText, AosDraftResend.SavedUnlessGiven,
                "the subject; compared decoded, since a server may encode it anew"),
            new AosFieldPart(AosProtocol.FieldBody, null, true, AosPartComparison.Body, AosDraftResend.SavedBody,
                "the body; a streamed (MIME) body is keyed by its sources, and a multipart one is told apart by its random boundary in mheader"),
            new AosFieldPart(AosProtocol.FieldPriority, "X-Priority", true, AosPartComparison.None, AosDraftResend.SavedUnlessGiven,
                "keyed: it changes what is sent; not compared: a server writes X-Priority in a form of its own (\"3 (Normal)\")"),
            new AosFieldPart(AosProtocol.FieldHeader, null, true, AosPartComparison.HeaderLines, AosDraftResend.CommandThenSaved,
                "the user's headers, composed ones (Reply-To, read receipt) and the body's MIME headers, each stored as posted"),
            new AosFieldPart(AosProtocol.FieldSend, null, false, AosPartComparison.None, AosDraftResend.Command,
                "what the command does, not what the message is (the journal keys sends only)"),
            new AosFieldPart(AosProtocol.FieldSaveDraft, null, false, AosPartComparison.None, AosDraftResend.Command,
                "what the command does, not what the message is"),
            new AosFieldPart(AosProtocol.FieldKeepCopy, null, false, AosPartComparison.None, AosDraftResend.Command,
                "where a copy is kept, not what is sent: a row rerun with -KeepCopy is the same message"),
        };

        /// <summary>The public properties of <see cref="AosMessage"/> and the field each is posted in.</summary>
        public static readonly IReadOnlyList<AosPropertyPart> Properties = new[]
        {
            new AosPropertyPart(nameof(AosMessage.To), AosProtocol.FieldTo, null, "posted as written (MimeKit's address form)"),
            new AosPropertyPart(nameof(AosMessage.Cc), AosProtocol.FieldCc, null, "posted as written"),
            new AosPropertyPart(nameof(AosMessage.Bcc), AosProtocol.FieldBcc, null, "posted as written"),
            new AosPropertyPart(nameof(AosMessage.Subject), AosProtocol.FieldSubject, null, "posted encoded (RFC 2047 where needed)"),
            new AosPropertyPart(nameof(AosMessage.Body), AosProtocol.FieldBody, m => new[] { m.Body },
                "the body text, plain or the text of a MIME part"),
            new AosPropertyPart(nameof(AosMessage.BodyIsHtml), AosProtocol.FieldBody, m => new[] { m.BodyIsHtml ? "html" : "plain" },
                "makes the body a text/html part"),
            new AosPropertyPart(nameof(AosMessage.BodyPath), AosProtocol.FieldBody, m => new[] { m.BodyPath == null ? null : AosJournalKey.HashFile(m.BodyPath) },
                "the body file's content (its bytes; the path is never sent, so two files with the same bytes make the same message)"),
            new AosPropertyPart(nameof(AosMessage.BodyEncoding), AosProtocol.FieldBody, m => new[] { m.BodyEncoding?.WebName },
                "how the body file's bytes become text"),
            new AosPropertyPart(nameof(AosMessage.TextBody), AosProtocol.FieldBody, m => new[] { m.TextBody },
                "the plain alternative of an HTML body"),
            new AosPropertyPart(nameof(AosMessage.Attachments), AosProtocol.FieldBody,
                m => Counted(m.Attachments.SelectMany(a => new[] { a.FileName, AosJournalKey.HashContent(a) }), m.Attachments.Count),
                "each attachment's name and content (its bytes, never its path)"),
            new AosPropertyPart(nameof(AosMessage.InlineAttachments), AosProtocol.FieldBody,
                m => Counted(m.InlineAttachments.SelectMany(i => new[] { i.Key, i.Value.FileName, AosJournalKey.HashContent(i.Value) }), m.InlineAttachments.Count),
                "each inline part's content id, name and content"),
            new AosPropertyPart(nameof(AosMessage.ReplyTo), AosProtocol.FieldHeader, null, "posted as a Reply-To line in mheader"),
            new AosPropertyPart(nameof(AosMessage.ReadReceiptTo), AosProtocol.FieldHeader, null, "posted as a Disposition-Notification-To line in mheader"),
            new AosPropertyPart(nameof(AosMessage.Priority), AosProtocol.FieldPriority, null, "posted as mprio"),
            new AosPropertyPart(nameof(AosMessage.Headers), AosProtocol.FieldHeader, null, "posted as mheader lines, folded"),
            new AosPropertyPart(nameof(AosMessage.KeepCopy), AosProtocol.FieldKeepCopy, null, "posted as keepcopy"),
            new AosPropertyPart(nameof(AosMessage.DraftId), AosProtocol.FieldDraftId, null, "posted as mid"),
        };

        /// <summary>The public properties of <see cref="AosAttachmentSource"/> (attachments and inline parts) and what the key makes of each.</summary>
        public static readonly IReadOnlyDictionary<string, string> AttachmentProperties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [nameof(AosAttachmentSource.FileName)] = "keyed: the name the recipient sees",
            [nameof(AosAttachmentSource.Path)] = "left out: never sent; the file's bytes are keyed instead",
            [nameof(AosAttachmentSource.Content)] = "keyed by its SHA-256, as a file's or a stream's content is",
            [nameof(AosAttachmentSource.ContentLength)] = "left out: it follows from the content",
        };

        /// <summary>
        /// The mheader lines a body brings (B8/B9): with a streamed body they carry its random boundary, so the key
        /// leaves them out and hashes the body's sources; no user header may have these names (B10).
        /// </summary>
        public static readonly IReadOnlyList<string> BodyHeaders = new[] { "MIME-Version", "Content-Type", "Content-Transfer-Encoding" };

        private static readonly Dictionary<string, AosFieldPart> ByField = Fields.ToDictionary(f => f.Field, StringComparer.Ordinal);

        /// <summary>The part of a posted field; a field no part describes is a programming error.</summary>
        public static AosFieldPart Of(string field) =>
            ByField.TryGetValue(field, out var part) ? part : throw new InvalidOperationException("The form field '" + field + "' is not classified in AosMessageParts.");

        /// <summary>Headers the server writes into a stored message: from fields (To, Subject ...) and of its own (From, Date, Message-ID).</summary>
        public static IEnumerable<string> ServerWrittenHeaders =>
            Fields.Where(f => f.StoredHeader != null).Select(f => f.StoredHeader!).Concat(new[] { "From", "Date", "Message-ID" });

        /// <summary>The properties whose values make a streamed body, in the order the key hashes them.</summary>
        public static IEnumerable<AosPropertyPart> BodySources => Properties.Where(p => p.BodySource != null);

        private static IEnumerable<string?> Counted(IEnumerable<string?> values, int count) =>
            new[] { count.ToString(CultureInfo.InvariantCulture) }.Concat(values);
    }
}
