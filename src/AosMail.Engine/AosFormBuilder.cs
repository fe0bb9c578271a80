using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using static System.FormattableString;

namespace AosMail.Engine
{
    /// <summary>
    /// Validates an <see cref="AosMessage"/> and maps it to sdmailact fields (docs/aos-protocol.md B5 to B12),
    /// building MIME with MimeKit where the body needs it. Throws <see cref="AosException"/>
    /// with a validation error id; never touches the network.
    /// </summary>
    public static class AosFormBuilder
    {
        private const string CrLf = "\r\n";

        /// <summary>
        /// One FormatOptions for everything the module writes: CRLF, the longest line MimeKit
        /// allows (we unfold anyway), RFC 2231 parameters, no SMTPUTF8.
        /// </summary>
        internal static readonly FormatOptions WireFormat = CreateWireFormat();

        private static readonly ParserOptions AddressParser = CreateAddressParser();
        private static readonly Regex Folding = new Regex("\r?\n(?=[ \t])", RegexOptions.CultureInvariant);

        // An attachment name is one name, never a path: '/' or '\' would let a mail program save it elsewhere.
        private static readonly char[] PathSeparators = { '/', '\\' };
        private static readonly Regex ContentIdText = new Regex("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]+\\z", RegexOptions.CultureInvariant);

        public static AosPreparedSubmission Prepare(AosMessage message, AosSubmitKind kind)
        {
            if (message == null)
            {
                throw new ArgumentNullException(nameof(message));
            }

            if (kind != AosSubmitKind.Send && kind != AosSubmitKind.SaveDraft)
            {
                throw new ArgumentOutOfRangeException(nameof(kind));
            }

            // Validation first, in a stable order: recipients, subject, headers, priority, draft id, body, attachments.
            // Each part's wire form is made as it is checked, so nothing is encoded twice.
            var to = ParseRecipients(message.To, "To");
            var cc = ParseRecipients(message.Cc, "Cc");
            var bcc = ParseRecipients(message.Bcc, "Bcc");
            var replyTo = ParseRecipients(message.ReplyTo, "ReplyTo");
            if (kind == AosSubmitKind.Send && to.Count + cc.Count + bcc.Count == 0)
            {
                throw new AosException(AosErrorIds.NoRecipient, AosErrorCategory.InvalidArgument,
                    "A message to send needs at least one recipient in To, Cc or Bcc (a draft needs none).");
            }

            var receiptTo = ParseReadReceiptAddress(message.ReadReceiptTo);
            var subject = SubjectField(message.Subject);
            var headerLines = UserHeaderLines(message.Headers);
            ValidatePriority(message.Priority, message.Headers);
            ValidateComposedHeader(message.Headers, AosProtocol.ReplyToHeader, "-ReplyTo", replyTo.Count > 0);
            ValidateComposedHeader(message.Headers, AosProtocol.ReadReceiptHeader, "-RequestReadReceipt", receiptTo != null);
            ValidateDraftId(message.DraftId);
            var contentIds = new ContentIdCheck(message);
            var bodyText = ReadBody(message, contentIds);
            var attachments = CheckedParts(message.Attachments.Select(a => new KeyValuePair<string, AosAttachmentSource>("", a)), inline: false);
            var inline = CheckedParts(message.InlineAttachments, inline: true);
            var warnings = contentIds.Check();

            var fields = new Dictionary<string, AosFormField>(StringComparer.Ordinal);
            Add(fields, AosProtocol.FieldApi, AosProtocol.ApiMachineReadable);
            Add(fields, AosProtocol.FieldDraftId, message.DraftId);
            Add(fields, AosProtocol.FieldTo, FormatAddresses(to));
            Add(fields, AosProtocol.FieldCc, FormatAddresses(cc));
            Add(fields, AosProtocol.FieldBcc, FormatAddresses(bcc));
            Add(fields, AosProtocol.FieldSubject, subject);

            // B10: the user's headers in their order, then the ones parameters compose, then the body's MIME headers.
            headerLines.AddRange(ComposedHeaderLines(replyTo, receiptTo));
            var body = BuildBody(message, bodyText, attachments, inline);
            headerLines.AddRange(body.HeaderLines);
            if (body.Mime != null)
            {
                fields[AosProtocol.FieldBody] = AosFormField.Streamed(AosProtocol.FieldBody, body.Mime);
            }
            else if (body.PlainFile != null)
            {
                fields[AosProtocol.FieldBody] = AosFormField.Streamed(AosProtocol.FieldBody, body.PlainFile);
            }
            else
            {
                Add(fields, AosProtocol.FieldBody, body.Plain);
            }

            Add(fields, AosProtocol.FieldPriority, message.Priority?.ToString(CultureInfo.InvariantCulture));
            Add(fields, AosProtocol.FieldHeader, headerLines.Count == 0 ? null : string.Join(CrLf, headerLines));
            if (kind == AosSubmitKind.Send)
            {
                Add(fields, AosProtocol.FieldSend, AosProtocol.Checked);
                Add(fields, AosProtocol.FieldKeepCopy, message.KeepCopy ? AosProtocol.Checked : null);
            }
            else
            {
                Add(fields, AosProtocol.FieldSaveDraft, AosProtocol.Checked);
            }

            return new AosPreparedSubmission(kind, InWireOrder(fields),
                AddrSpecs(to), AddrSpecs(cc), AddrSpecs(bcc),
                message.Subject, message.Attachments.Count, message.DraftId, warnings);
        }

        /// <summary>B5: optional fields without a value are left out.</summary>
        private static void Add(Dictionary<string, AosFormField> fields, string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                fields[name] = AosFormField.Plain(name, value!);
            }
        }

        /// <summary>The fields in <see cref="AosProtocol.SubmitFieldOrder"/>.</summary>
        internal static IReadOnlyList<AosFormField> InWireOrder(IDictionary<string, AosFormField> fields)
        {
            var ordered = new List<AosFormField>(fields.Count);
            foreach (var name in AosProtocol.SubmitFieldOrder)
            {
                if (fields.TryGetValue(name, out var field))
                {
                    ordered.Add(field);
                }
            }

            return ordered.AsReadOnly();
        }

        // ---- B6: recipients ----

        private static List<MailboxAddress> ParseRecipients(IList<string> entries, string kind)
        {
            var result = new List<MailboxAddress>();
            foreach (var entry in entries)
            {
                if (string.IsNullOrWhiteSpace(entry))
                {
                    throw InvalidAddress(entry, $"An empty address was given in {kind}.");
                }

                int control = IndexOfControl(entry);
                if (control >= 0)
                {
                    throw InvalidAddress(entry, Invariant($"The {kind} entry '{Escape(entry)}' contains the control character U+{(int)entry[control]:X4}, which has no place in an address (a mail header would break at it)."));
                }

                var list = AosAddressList.Parse(AddressParser, entry, kind);
                foreach (var address in list)
                {
                    if (address is GroupAddress)
                    {
                        throw InvalidAddress(entry, $"The {kind} entry '{entry}' contains a group ('{address.Name}:'), which cannot be sent to; give the addresses themselves.");
                    }

                    var mailbox = (MailboxAddress)address;
                    if (string.IsNullOrEmpty(mailbox.LocalPart) || string.IsNullOrEmpty(mailbox.Domain))
                    {
                        throw InvalidAddress(entry, $"The {kind} entry '{entry}' contains '{mailbox.Address}', which is not a full address of the form local@domain.");
                    }

                    if (!IsAscii(mailbox.LocalPart))
                    {
                        throw InvalidAddress(entry, $"The {kind} entry '{entry}' has the non-ASCII local part '{mailbox.LocalPart}': mail servers carry it only with SMTPUTF8 (RFC 6531), which AOS does not offer, so the message could not be delivered. Use the ASCII address the recipient also has (a non-ASCII domain is fine).");
                    }

                    result.Add(mailbox);
                }
            }

            return result;
        }

        private static AosException InvalidAddress(string? entry, string message) =>
            new AosException(AosErrorIds.InvalidAddress, AosErrorCategory.InvalidArgument, message, entry);

        /// <summary>The read receipt goes to the sending account: it must be one full address.</summary>
        private static MailboxAddress? ParseReadReceiptAddress(string? address)
        {
            if (address == null)
            {
                return null;
            }

            if (!MailboxAddress.TryParse(AddressParser, address, out var mailbox) || IndexOfControl(address) >= 0
                || string.IsNullOrEmpty(mailbox.LocalPart) || string.IsNullOrEmpty(mailbox.Domain))
            {
                throw InvalidAddress(address,
                    $"A read receipt goes to the sending account, but '{Escape(address)}' is not a full address of the form local@domain: log in with the user name as name@domain, or give -Domain.");
            }

            return mailbox;
        }

        /// <summary>A header a parameter composes (Reply-To from -ReplyTo ...) cannot also come from -Header.</summary>
        private static void ValidateComposedHeader(IList<KeyValuePair<string, string>> headers, string name, string parameter, bool composed)
        {
            if (!composed)
            {
                return;
            }

            foreach (var header in headers)
            {
                if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    throw new AosException(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                        $"{parameter} writes the header {name}, and -Header gives '{header.Key}' too: give one of them.", header.Key);
                }
            }
        }

        private static string? FormatAddresses(List<MailboxAddress> mailboxes)
        {
            if (mailboxes.Count == 0)
            {
                return null;
            }

            var parts = new string[mailboxes.Count];
            for (int i = 0; i < mailboxes.Count; i++)
            {
                parts[i] = Unfold(mailboxes[i].ToString(WireFormat, true));
            }

            return string.Join(", ", parts);
        }

        private static IReadOnlyList<string> AddrSpecs(List<MailboxAddress> mailboxes)
        {
            var result = new string[mailboxes.Count];
            for (int i = 0; i < mailboxes.Count; i++)
            {
                result[i] = mailboxes[i].Address;
            }

            return result;
        }

        // ---- B7: subject ----

        /// <summary>
        /// msub: one line, which the server writes as "Subject: " + msub, so it must fit RFC 5322's
        /// 998; text that needs it goes as encoded-words (<see cref="AosWireText.HeaderText"/>).
        /// Null for no subject.
        /// </summary>
        private static string? SubjectField(string? subject)
        {
            if (string.IsNullOrEmpty(subject))
            {
                return null;
            }

            if (HasLineBreakOrNul(subject!))
            {
                throw new AosException(AosErrorIds.InvalidSubject, AosErrorCategory.InvalidArgument,
                    $"The subject must be one line, but it contains a line break or NUL: '{Escape(subject!)}'.", subject);
            }

            int control = IndexOfHeaderControl(subject!);
            if (control >= 0)
            {
                throw new AosException(AosErrorIds.InvalidSubject, AosErrorCategory.InvalidArgument,
                    Invariant($"The subject '{Escape(subject!)}' contains the control character U+{(int)subject![control]:X4}, which mail programs show as garbage or obey as a terminal command: remove it."), subject);
            }

            var field = AosWireText.HeaderText(subject!);
            int line = AosProtocol.SubjectHeaderPrefix.Length + field.Length;
            if (line > AosProtocol.MaxHeaderLineLength)
            {
                throw new AosException(AosErrorIds.InvalidSubject, AosErrorCategory.InvalidArgument,
                    Invariant($"The subject '{Shorten(subject!)}' is too long: {subject!.Length} characters make a Subject line of {line} characters as sent, ")
                    + Invariant($"and a mail header line holds at most {AosProtocol.MaxHeaderLineLength} (RFC 5322). An ASCII subject may have up to {AosProtocol.MaxHeaderLineLength - AosProtocol.SubjectHeaderPrefix.Length} characters; ")
                    + "other text is encoded for mail (RFC 2047), which makes it longer, so fewer fit.", subject);
            }

            return field;
        }

        // ---- B10: headers ----

        /// <summary>The -Header lines, checked, encoded and folded (B10), in the order given.</summary>
        private static List<string> UserHeaderLines(IList<KeyValuePair<string, string>> headers)
        {
            var lines = new List<string>(headers.Count);
            foreach (var header in headers)
            {
                var name = header.Key;
                if (!IsFieldName(name))
                {
                    throw new AosException(AosErrorIds.InvalidHeaderName, AosErrorCategory.InvalidArgument,
                        $"'{Escape(name ?? "")}' is not a valid header name: use printable ASCII characters other than ':' and space, for example 'X-Company'.", name);
                }

                if (AosProtocol.IsReservedHeader(name))
                {
                    throw new AosException(AosErrorIds.ReservedHeader, AosErrorCategory.InvalidArgument,
                        $"The header '{name}' is written by the module or the server and cannot be given as a custom header. Reserved: {string.Join(", ", AosProtocol.ReservedHeaders)}.",
                        name);
                }

                var value = header.Value ?? "";
                if (HasLineBreakOrNul(value))
                {
                    throw new AosException(AosErrorIds.HeaderInjection, AosErrorCategory.InvalidArgument,
                        $"The value of header '{name}' contains a line break or NUL, which would inject extra header lines: '{Escape(value)}'.", value);
                }

                int control = IndexOfHeaderControl(value);
                if (control >= 0)
                {
                    throw new AosException(AosErrorIds.InvalidHeaderValue, AosErrorCategory.InvalidArgument,
                        Invariant($"The value of header '{name}' contains the control character U+{(int)value[control]:X4}, which mail programs show as garbage or obey as a terminal command: '{Escape(value)}'."), value);
                }

                lines.Add(HeaderLine(name, AosWireText.HeaderText(value, AosProtocol.RecommendedLineLength - name.Length - 2)));
            }

            return lines;
        }

        /// <summary>Reply-To and Disposition-Notification-To, when parameters ask for them (B10).</summary>
        private static IEnumerable<string> ComposedHeaderLines(List<MailboxAddress> replyTo, MailboxAddress? receiptTo)
        {
            if (replyTo.Count > 0)
            {
                yield return HeaderLine(AosProtocol.ReplyToHeader, FormatAddresses(replyTo)!);
            }

            if (receiptTo != null)
            {
                yield return HeaderLine(AosProtocol.ReadReceiptHeader, FormatAddresses(new List<MailboxAddress> { receiptTo })!);
            }
        }

        /// <summary>One mheader line, folded to RFC 5322's limits; a value that cannot fit them is refused.</summary>
        private static string HeaderLine(string name, string value)
        {
            return AosWireText.FoldedHeaderLine(name, value)
                ?? throw new AosException(AosErrorIds.InvalidHeaderValue, AosErrorCategory.InvalidArgument,
                    Invariant($"The value of header '{name}' ('{Shorten(value)}') has a word too long for a mail header line: folded at its spaces, a line would still be longer than {AosProtocol.MaxHeaderLineLength} characters (RFC 5322). Put spaces in it, or send it in the body."),
                    value);
        }

        internal static bool IsFieldName(string? name)
        {
            if (string.IsNullOrEmpty(name))
            {
                return false;
            }

            foreach (var c in name!)
            {
                if (c < 33 || c > 126 || c == ':')
                {
                    return false;
                }
            }

            return true;
        }

        // ---- B11, B12 ----

        private static void ValidatePriority(int? priority, IList<KeyValuePair<string, string>> headers)
        {
            if (!priority.HasValue)
            {
                return;
            }

            if (priority.Value < AosProtocol.PriorityHighest || priority.Value > AosProtocol.PriorityLowest)
            {
                throw new AosException(AosErrorIds.InvalidPriority, AosErrorCategory.InvalidArgument,
                    Invariant($"The priority must be 1 (highest) to 5 (lowest); {priority.Value} was given."), priority.Value);
            }

            foreach (var header in headers)
            {
                foreach (var name in AosProtocol.PriorityHeaders)
                {
                    if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
                    {
                        throw new AosException(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                            $"-Priority and the header '{header.Key}' both set the priority, and could contradict each other: give one of them (-Priority sends mprio; the server writes X-Priority from it).", header.Key);
                    }
                }
            }
        }

        private static void ValidateDraftId(string? draftId)
        {
            if (draftId != null && !AosProtocol.DraftId.IsMatch(draftId))
            {
                throw new AosException(AosErrorIds.InvalidDraftId, AosErrorCategory.InvalidArgument,
                    $"'{Escape(draftId)}' is not a draft id: a draft id is 1 to 64 of the characters A-Z, a-z, 0-9, '.', '_' and '-'.", draftId);
            }
        }

        // ---- body and attachments ----

        /// <summary>
        /// The body: <see cref="AosMessage.Body"/>, or the text of <see cref="AosMessage.BodyPath"/>
        /// (read once here, never held: <see cref="AosBodyFile"/>), checked against the other body
        /// parameters; an HTML body's cid: references are noted for <paramref name="contentIds"/> as it is read. Null when empty.
        /// </summary>
        private static BodyText? ReadBody(AosMessage message, ContentIdCheck contentIds)
        {
            BodyText? body;
            if (message.BodyPath != null)
            {
                if (!string.IsNullOrEmpty(message.Body))
                {
                    throw new AosException(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                        "-Body and -BodyPath both give the body: give one of them.", message.BodyPath);
                }

                if (!AosFileKind.IsRegularFile(message.BodyPath))
                {
                    throw new AosException(AosErrorIds.BodyFileNotFound, AosErrorCategory.ObjectNotFound,
                        $"The body file '{message.BodyPath}' does not exist or is not a regular file.", message.BodyPath);
                }

                body = BodyText.Of(AosBodyFile.Read(message.BodyPath, message.BodyEncoding, message.BodyIsHtml ? contentIds.Scan() : null));
            }
            else
            {
                body = BodyText.Of(message.Body);
                if (message.BodyIsHtml && body != null)
                {
                    var scan = contentIds.Scan();
                    scan.Add(body.Text!);
                    scan.End();
                }
            }

            // Without -BodyPath, -Encoding has nothing to decode (a -Body is text already) and the
            // message goes as UTF-8 whatever it names, so Send-MailMessage's "-Encoding UTF8" is fine.

            bool html = message.BodyIsHtml && body != null;
            if (!message.BodyIsHtml && body != null && !string.IsNullOrEmpty(message.TextBody))
            {
                throw new AosException(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                    "-TextBody is the plain-text alternative of an HTML body: use it with -Body and -BodyAsHtml, or give the text as -Body alone.", message.TextBody);
            }

            if (message.InlineAttachments.Count > 0 && !html)
            {
                throw new AosException(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                    $"-InlineAttachments are shown by an HTML body: give -Body with -BodyAsHtml, referring to each as <img src=\"cid:{message.InlineAttachments[0].Key}\">.",
                    message.InlineAttachments[0].Key);
            }

            return body;
        }

        /// <summary>
        /// Each part's source checked (a regular file that exists, or bytes with a name; a content
        /// id where one is given) and its length taken now: the request is measured with it, and a
        /// file that changes later is caught while it is sent (<see cref="AosFixedLengthStream"/>).
        /// </summary>
        private static List<AosMimeBody.Part> CheckedParts(IEnumerable<KeyValuePair<string, AosAttachmentSource>> sources, bool inline)
        {
            var parts = new List<AosMimeBody.Part>();
            var contentIds = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in sources)
            {
                var source = entry.Value ?? throw new ArgumentException("An attachment source is null.", nameof(sources));
                string contentId = entry.Key ?? "";
                if (inline && contentId.Trim().Length == 0)
                {
                    throw new AosException(AosErrorIds.InvalidAttachment, AosErrorCategory.InvalidArgument,
                        $"An -InlineAttachments entry for {source} has an empty content id: give the id the HTML refers to, as in @{{ logo = ... }} with <img src=\"cid:logo\">.", source);
                }

                if (contentId.Length > 0 && !IsContentId(contentId))
                {
                    throw new AosException(AosErrorIds.InvalidAttachment, AosErrorCategory.InvalidArgument,
                        $"'{Escape(contentId)}' is not a usable content id: use letters, digits and . _ - @ (for example 'logo'), as in <img src=\"cid:logo\">.", contentId);
                }

                if (contentId.Length > 0 && !contentIds.Add(contentId))
                {
                    throw new AosException(AosErrorIds.InvalidAttachment, AosErrorCategory.InvalidArgument,
                        $"The content id '{contentId}' is given twice in -InlineAttachments.", contentId);
                }

                long length;
                if (source.Content != null)
                {
                    length = source.Content.LongLength;
                }
                else if (source.Stream != null)
                {
                    length = source.StreamLength;
                }
                else if (string.IsNullOrEmpty(source.Path) || !File.Exists(source.Path))
                {
                    throw new AosException(AosErrorIds.AttachmentNotFound, AosErrorCategory.ObjectNotFound,
                        $"The attachment '{source.Path}' does not exist or is not a file.", source.Path);
                }
                else if (!AosFileKind.IsRegularFile(source.Path!))
                {
                    throw new AosException(AosErrorIds.InvalidAttachment, AosErrorCategory.InvalidArgument,
                        $"The attachment '{source.Path}' is not a regular file (a pipe, a device or a socket?): reading it could block or never end, so it cannot be attached.", source.Path);
                }
                else
                {
                    length = new FileInfo(source.Path).Length;
                }

                if (string.IsNullOrWhiteSpace(source.FileName) || IndexOfControl(source.FileName) >= 0)
                {
                    throw new AosException(AosErrorIds.InvalidAttachment, AosErrorCategory.InvalidArgument,
                        $"An attachment needs a file name (one line, not blank), which also gives its content type; '{Escape(source.FileName ?? "")}' was given for {source}.", source);
                }

                if (source.FileName == "." || source.FileName == ".." || source.FileName.IndexOfAny(PathSeparators) >= 0)
                {
                    throw new AosException(AosErrorIds.InvalidAttachment, AosErrorCategory.InvalidArgument,
                        $"The attachment name '{source.FileName}' is not a file name: a recipient's mail program would save it outside its folder or refuse it. Give a name without '/' or '\\' that is not '.' or '..'.", source);
                }

                var part = new MimePart(MimeTypes.GetMimeType(source.FileName))
                {
                    ContentDisposition = new ContentDisposition(contentId.Length > 0 ? ContentDisposition.Inline : ContentDisposition.Attachment),
                    ContentTransferEncoding = ContentEncoding.Base64,
                    // A non-ASCII name becomes RFC 2231 parameters (WireFormat); MimeKit declares
                    // the narrowest charset that holds it (iso-8859-1, else utf-8).
                    FileName = source.FileName,
                };
                if (contentId.Length > 0)
                {
                    part.ContentId = contentId;
                }

                parts.Add(new AosMimeBody.Part(part, source, length));
            }

            return parts;
        }

        /// <summary>
        /// Every cid: the HTML refers to needs an inline attachment (else the image is broken: an
        /// error); an inline attachment the HTML never refers to is sent, but mail programs may show
        /// it as an attachment (a warning). The scan keeps only what the check needs (the given ids
        /// it met, the first missing one), so a body file of any size costs no more.
        /// </summary>
        private sealed class ContentIdCheck
        {
            private readonly AosMessage _message;
            private readonly HashSet<string> _given;
            private readonly HashSet<string> _referenced = new HashSet<string>(StringComparer.Ordinal);
            private string? _missing;

            public ContentIdCheck(AosMessage message)
            {
                _message = message;
                _given = new HashSet<string>(message.InlineAttachments.Select(e => e.Key), StringComparer.Ordinal);
            }

            /// <summary>A scan of the HTML body that checks each reference it finds.</summary>
            public AosContentIdScan Scan() => new AosContentIdScan(Found);

            private void Found(string contentId)
            {
                if (_given.Contains(contentId))
                {
                    _referenced.Add(contentId);
                }
                else if (_missing == null)
                {
                    _missing = contentId;
                }
            }

            /// <summary>After the parts' own checks: the error for the first missing id, else the warnings.</summary>
            public IReadOnlyList<string> Check()
            {
                if (_missing != null)
                {
                    throw new AosException(AosErrorIds.MissingInlineAttachment, AosErrorCategory.ObjectNotFound,
                        $"The HTML refers to 'cid:{_missing}', but -InlineAttachments has no entry '{_missing}'"
                        + (_given.Count == 0 ? "" : $" (it has: {string.Join(", ", _given)}; content ids are case-sensitive)")
                        + ", so the image would be broken.", _missing);
                }

                return _message.InlineAttachments.Select(e => e.Key).Where(id => !_referenced.Contains(id))
                    .Select(id => $"The inline attachment '{id}' is not referred to by the HTML (no \"cid:{id}\"); it is sent, and mail programs may show it as an attachment.")
                    .ToList();
            }
        }

        /// <summary>An RFC 5322 dot-atom-like id, optionally with a domain: what MimeKit writes as Content-ID &lt;id&gt;.</summary>
        private static bool IsContentId(string value) =>
            value.Length <= AosProtocol.MaxContentIdLength && ContentIdText.IsMatch(value);

        // ---- B8, B9: body ----

        /// <summary>
        /// The body field and the MIME header lines it needs in mheader (B8, B9): a plain body as
        /// text, or a MIME entity written when the message is sent.
        /// </summary>
        private static Body BuildBody(AosMessage message, BodyText? body, List<AosMimeBody.Part> attachments, List<AosMimeBody.Part> inline)
        {
            var html = message.BodyIsHtml ? body : null;
            var text = message.BodyIsHtml || body == null ? BodyText.Of(message.TextBody) : body;
            if (html == null && attachments.Count == 0)
            {
                return PlainBody(text);
            }

            var textParts = new List<AosMimeBody.Part>();
            var entity = MimeStructure(text, html, attachments, inline, textParts);
            return MimeBody(entity, textParts.Concat(inline).Concat(attachments).ToList());
        }

        /// <summary>
        /// B8: a plain body goes as it is, with UTF-8 MIME headers when it is not ASCII, unless a line
        /// is too long or a control character is in it: then it is a MIME text part like an HTML body.
        /// </summary>
        private static Body PlainBody(BodyText? text)
        {
            if (text == null)
            {
                return new Body(null, null, Array.Empty<string>());
            }

            if (text.NeedsTransferEncoding)
            {
                var textParts = new List<AosMimeBody.Part>();
                return MimeBody(TextEntity("plain", text, textParts), textParts);
            }

            return text.IsAscii
                ? new Body(text.Text, null, Array.Empty<string>(), text.File)
                : new Body(text.Text, null, new[] { AosProtocol.MimeVersionHeader, AosProtocol.PlainUtf8ContentType, AosProtocol.EightBitEncoding }, text.File);
        }

        /// <summary>
        /// B9: mixed(alternative(text, related(html, inline parts)), attachments), each level present
        /// only when needed. A text part from a file is added to <paramref name="textParts"/>.
        /// </summary>
        private static MimeEntity MimeStructure(BodyText? text, BodyText? html, List<AosMimeBody.Part> attachments, List<AosMimeBody.Part> inline, List<AosMimeBody.Part> textParts)
        {
            MimeEntity? content = text == null ? null : TextEntity("plain", text, textParts);
            if (html != null)
            {
                MimeEntity shown = TextEntity("html", html, textParts);
                if (inline.Count > 0)
                {
                    // The first part of multipart/related is its root (RFC 2387): the HTML.
                    var related = new MultipartRelated { shown };
                    foreach (var part in inline)
                    {
                        related.Add(part.Mime);
                    }

                    shown = related;
                }

                content = content == null ? shown : new MultipartAlternative { content, shown };
            }

            if (attachments.Count == 0)
            {
                return content!;
            }

            var mixed = new Multipart("mixed");
            if (content != null)
            {
                mixed.Add(content);
            }

            foreach (var part in attachments)
            {
                mixed.Add(part.Mime);
            }

            return mixed;
        }

        /// <summary>
        /// A MIME body: 7-bit transfer encodings chosen by MimeKit, the top entity's headers for
        /// mheader. No attachment is read here: its part is base64 by construction, so Prepare leaves it be.
        /// </summary>
        private static Body MimeBody(MimeEntity entity, List<AosMimeBody.Part> parts)
        {
            entity.Prepare(EncodingConstraint.SevenBit);
            var headerLines = new List<string>
            {
                AosProtocol.MimeVersionHeader,
                Unfold(entity.ContentType.ToString(WireFormat, Encoding.UTF8, true)),
            };
            var transferEncoding = entity.Headers[HeaderId.ContentTransferEncoding];
            if (transferEncoding != null && transferEncoding.Trim().Length > 0)
            {
                headerLines.Add("Content-Transfer-Encoding: " + transferEncoding.Trim());
            }

            return new Body(null, new AosMimeBody(entity, parts), headerLines);
        }

        /// <summary>A body field: plain text (a string or a file's), or a MIME entity; and the header lines it needs in mheader.</summary>
        private sealed class Body
        {
            public Body(string? plain, AosMimeBody? mime, IReadOnlyList<string> headerLines, AosBodyFile? plainFile = null)
            {
                Plain = plain;
                Mime = mime;
                HeaderLines = headerLines;
                PlainFile = plainFile;
            }

            public string? Plain { get; }
            public AosMimeBody? Mime { get; }
            public IReadOnlyList<string> HeaderLines { get; }
            public AosBodyFile? PlainFile { get; }
        }

        /// <summary>A body's text, not empty, CRLF line ends: a string (-Body, -TextBody), or a -BodyPath file read when it is written.</summary>
        private sealed class BodyText
        {
            private AosWireText.PlainBodyScan? _scan;

            private BodyText(string? text, AosBodyFile? file)
            {
                Text = text;
                File = file;
            }

            public string? Text { get; }
            public AosBodyFile? File { get; }

            public bool NeedsTransferEncoding => File?.NeedsTransferEncoding ?? Scan.NeedsTransferEncoding;

            public bool IsAscii => File?.IsAscii ?? Scan.IsAscii;

            // A string's B8 scan, made once when first asked (an HTML body never is): one pass gives both answers.
            private AosWireText.PlainBodyScan Scan => _scan ??= AosWireText.PlainBodyScan.Of(Text!);

            public static BodyText? Of(string? text) => string.IsNullOrEmpty(text) ? null : new BodyText(NormalizeNewLines(text!), null);

            public static BodyText? Of(AosBodyFile file) => file.IsEmpty ? null : new BodyText(null, file);
        }

        /// <summary>
        /// A text part, UTF-8. A file's text is the part's content only while the body is written
        /// (<see cref="AosMimeBody"/>); its transfer encoding is the one MimeKit's Prepare would
        /// choose from that content (<see cref="AosBodyFile.BestEncoding"/>), set here because
        /// Prepare sees no content.
        /// </summary>
        private static TextPart TextEntity(string subtype, BodyText text, List<AosMimeBody.Part> textParts)
        {
            var part = new TextPart(subtype);
            if (text.File == null)
            {
                part.SetText(Encoding.UTF8, text.Text!);
                return part;
            }

            part.ContentType.Charset = "utf-8";
            if (text.File.BestEncoding != ContentEncoding.SevenBit)
            {
                part.ContentTransferEncoding = text.File.BestEncoding;
            }

            textParts.Add(new AosMimeBody.Part(part, text.File));
            return part;
        }

        // ---- helpers ----

        internal static string NormalizeNewLines(string text)
        {
            if (text.IndexOf('\r') < 0 && text.IndexOf('\n') < 0)
            {
                return text;
            }

            var builder = new StringBuilder(text.Length + 16);
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c == '\r')
                {
                    if (i + 1 < text.Length && text[i + 1] == '\n')
                    {
                        i++;
                    }

                    builder.Append(CrLf);
                }
                else if (c == '\n')
                {
                    builder.Append(CrLf);
                }
                else
                {
                    builder.Append(c);
                }
            }

            return builder.ToString();
        }

        /// <summary>RFC 5322 unfolding, so every header and address is one line.</summary>
        internal static string Unfold(string value) => Folding.Replace(value, "").TrimEnd('\r', '\n');

        internal static bool IsAscii(string text)
        {
            foreach (var c in text)
            {
                if (c > 0x7F)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// The first C0 or C1 control character, DEL, or Unicode line or paragraph separator
        /// (U+2028, U+2029; U+0085 is C1): characters a header breaks at or chokes on. -1 if none.
        /// </summary>
        private static int IndexOfControl(string value)
        {
            for (int i = 0; i < value.Length; i++)
            {
                if (IsControl(value[i]))
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>
        /// The first control character (as <see cref="IndexOfControl"/>) in a subject or header value
        /// other than TAB, which RFC 5322 allows there; -1 if none.
        /// </summary>
        private static int IndexOfHeaderControl(string value)
        {
            for (int i = 0; i < value.Length; i++)
            {
                if (value[i] != '\t' && IsControl(value[i]))
                {
                    return i;
                }
            }

            return -1;
        }

        private static bool IsControl(char c) => c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == '\u2028' || c == '\u2029';

        private static string Shorten(string value) => value.Length <= 40 ? value : value.Substring(0, 40) + "\u2026";

        private static bool HasLineBreakOrNul(string value) =>
            value.IndexOf('\r') >= 0 || value.IndexOf('\n') >= 0 || value.IndexOf('\0') >= 0;

        /// <summary>
        /// Shows CR, LF and NUL as \r, \n and \0, and other control characters as \uXXXX, so a
        /// message stays one readable line.
        /// </summary>
        internal static string Escape(string value)
        {
            if (IndexOfControl(value) < 0)
            {
                return value;
            }

            var builder = new StringBuilder(value.Length + 16);
            foreach (char c in value)
            {
                switch (c)
                {
                    case '\r': builder.Append("\\r"); break;
                    case '\n': builder.Append("\\n"); break;
                    case '\0': builder.Append("\\0"); break;
                    default:
                        if (IsControl(c)) builder.Append(Invariant($"\\u{(int)c:X4}"));
                        else builder.Append(c);
                        break;
                }
            }

            return builder.ToString();
        }

        private static FormatOptions CreateWireFormat()
        {
            var options = FormatOptions.Default.Clone();
            options.NewLineFormat = NewLineFormat.Dos;
            options.MaxLineLength = 998;
            options.ParameterEncodingMethod = ParameterEncodingMethod.Rfc2231;
            options.International = false;
            return options;
        }

        private static ParserOptions CreateAddressParser()
        {
            var options = ParserOptions.Default.Clone();
            options.AddressParserComplianceMode = RfcComplianceMode.Strict;
            options.AllowAddressesWithoutDomain = false;
            options.AllowUnquotedCommasInAddresses = false;
            return options;
        }
    }
}
