using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.Utils;
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

            // Validation first, in a stable order: recipients, subject, headers, priority, draft id, attachments.
            var to = ParseRecipients(message.To, "To");
            var cc = ParseRecipients(message.Cc, "Cc");
            var bcc = ParseRecipients(message.Bcc, "Bcc");
            if (kind == AosSubmitKind.Send && to.Count + cc.Count + bcc.Count == 0)
            {
                throw new AosException(AosErrorIds.NoRecipient, AosErrorCategory.InvalidArgument,
                    "A message to send needs at least one recipient in To, Cc or Bcc (a draft needs none).");
            }

            ValidateSubject(message.Subject);
            ValidateHeaders(message.Headers);
            ValidatePriority(message.Priority, message.Headers);
            ValidateDraftId(message.DraftId);
            ValidateAttachments(message.Attachments);

            var fields = new Dictionary<string, AosFormField>(StringComparer.Ordinal);
            Add(fields, AosProtocol.FieldApi, AosProtocol.ApiMachineReadable);
            Add(fields, AosProtocol.FieldDraftId, message.DraftId);
            Add(fields, AosProtocol.FieldTo, FormatAddresses(to));
            Add(fields, AosProtocol.FieldCc, FormatAddresses(cc));
            Add(fields, AosProtocol.FieldBcc, FormatAddresses(bcc));
            Add(fields, AosProtocol.FieldSubject, EncodeSubject(message.Subject));

            var headerLines = new List<string>();
            foreach (var header in message.Headers)
            {
                headerLines.Add(header.Key + ": " + EncodeHeaderValue(header.Value ?? ""));
            }

            var body = BuildBody(message, headerLines, out var mimeBody);
            if (mimeBody != null)
            {
                fields[AosProtocol.FieldBody] = AosFormField.Streamed(AosProtocol.FieldBody, mimeBody);
            }
            else
            {
                Add(fields, AosProtocol.FieldBody, body);
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
                message.Subject, message.Attachments.Count, message.DraftId);
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

                if (!InternetAddressList.TryParse(AddressParser, entry, out var list) || list.Count == 0)
                {
                    throw InvalidAddress(entry, $"The {kind} entry '{entry}' is not a valid e-mail address or address list.");
                }

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

                    result.Add(mailbox);
                }
            }

            return result;
        }

        private static AosException InvalidAddress(string? entry, string message) =>
            new AosException(AosErrorIds.InvalidAddress, AosErrorCategory.InvalidArgument, message, entry);

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

        private static void ValidateSubject(string? subject)
        {
            if (subject != null && HasLineBreakOrNul(subject))
            {
                throw new AosException(AosErrorIds.InvalidSubject, AosErrorCategory.InvalidArgument,
                    $"The subject must be one line, but it contains a line break or NUL: '{Escape(subject)}'.", subject);
            }

            int line = AosProtocol.SubjectHeaderPrefix.Length + (EncodeSubject(subject)?.Length ?? 0);
            if (line > AosProtocol.MaxHeaderLineLength)
            {
                throw new AosException(AosErrorIds.InvalidSubject, AosErrorCategory.InvalidArgument,
                    Invariant($"The subject '{Shorten(subject!)}' is too long: {subject!.Length} characters make a Subject line of {line} characters as sent, ")
                    + Invariant($"and a mail header line holds at most {AosProtocol.MaxHeaderLineLength} (RFC 5322). An ASCII subject may have up to {AosProtocol.MaxHeaderLineLength - AosProtocol.SubjectHeaderPrefix.Length} characters; ")
                    + "other text is encoded for mail (RFC 2047), which makes it longer, so fewer fit.", subject);
            }
        }

        private static string? EncodeSubject(string? subject)
        {
            if (string.IsNullOrEmpty(subject))
            {
                return null;
            }

            return IsAscii(subject!) ? subject : EncodeText(subject!);
        }

        // ---- B10: headers ----

        private static void ValidateHeaders(IList<KeyValuePair<string, string>> headers)
        {
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
            }
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

        private static string EncodeHeaderValue(string value) => IsAscii(value) ? value : EncodeText(value);

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

        // ---- attachments ----

        private static void ValidateAttachments(IList<string> attachments)
        {
            foreach (var path in attachments)
            {
                if (string.IsNullOrEmpty(path) || !File.Exists(path))
                {
                    throw new AosException(AosErrorIds.AttachmentNotFound, AosErrorCategory.ObjectNotFound,
                        $"The attachment '{path}' does not exist or is not a file.", path);
                }
            }
        }

        // ---- B8, B9: body ----

        /// <summary>
        /// Returns the plain body field (or null) and appends the module's MIME header lines; for
        /// a MIME message the body is <paramref name="mimeBody"/> instead, written when it is sent.
        /// No attachment is read here: its part is base64 by construction, so Prepare leaves it be.
        /// </summary>
        private static string? BuildBody(AosMessage message, List<string> headerLines, out AosMimeBody? mimeBody)
        {
            mimeBody = null;
            var text = string.IsNullOrEmpty(message.Body) ? null : NormalizeNewLines(message.Body!);
            bool mime = message.Attachments.Count > 0 || (message.BodyIsHtml && text != null);
            if (!mime)
            {
                if (text == null)
                {
                    return null;
                }

                if (!IsAscii(text))
                {
                    headerLines.Add(AosProtocol.MimeVersionHeader);
                    headerLines.Add(AosProtocol.PlainUtf8ContentType);
                    headerLines.Add(AosProtocol.EightBitEncoding);
                }

                return text;
            }

            var parts = new List<MimeEntity>();
            if (text != null)
            {
                var part = new TextPart(message.BodyIsHtml ? "html" : "plain");
                part.SetText(Encoding.UTF8, text);
                parts.Add(part);
            }

            var attachments = new List<KeyValuePair<MimePart, string>>();
            foreach (var path in message.Attachments)
            {
                var fileName = Path.GetFileName(path);
                // A non-ASCII file name becomes RFC 2231 parameters (WireFormat); MimeKit declares
                // the narrowest charset that holds it (iso-8859-1, else utf-8). The content is
                // set for each pass over the body (AosMimeBody), from a file opened for that pass.
                var attachment = new MimePart(MimeTypes.GetMimeType(fileName))
                {
                    ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                    ContentTransferEncoding = ContentEncoding.Base64,
                    FileName = fileName,
                };
                parts.Add(attachment);
                attachments.Add(new KeyValuePair<MimePart, string>(attachment, path));
            }

            MimeEntity entity;
            if (parts.Count == 1 && message.Attachments.Count == 0)
            {
                entity = parts[0];
            }
            else
            {
                var mixed = new Multipart("mixed");
                foreach (var part in parts)
                {
                    mixed.Add(part);
                }

                entity = mixed;
            }

            entity.Prepare(EncodingConstraint.SevenBit);

            headerLines.Add(AosProtocol.MimeVersionHeader);
            headerLines.Add(Unfold(entity.ContentType.ToString(WireFormat, Encoding.UTF8, true)));
            var transferEncoding = entity.Headers[HeaderId.ContentTransferEncoding];
            if (transferEncoding != null && transferEncoding.Trim().Length > 0)
            {
                headerLines.Add("Content-Transfer-Encoding: " + transferEncoding.Trim());
            }

            mimeBody = new AosMimeBody(entity, attachments);
            return null;
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

        private static string EncodeText(string text) =>
            Unfold(Encoding.ASCII.GetString(Rfc2047.EncodeText(WireFormat, Encoding.UTF8, text)));

        /// <summary>RFC 5322 unfolding, so every header and address is one line.</summary>
        internal static string Unfold(string value) => Folding.Replace(value, "").TrimEnd('\r', '\n');

        private static bool IsAscii(string text)
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
