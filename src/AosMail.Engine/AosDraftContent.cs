using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using MimeKit;

namespace AosMail.Engine
{
    /// <summary>
    /// Sending or re-saving a draft "as saved". AOS replaces a draft by the form's content (mid
    /// with snd or svdrf), so a draft sent without a new body would go out empty. When the user
    /// gives no new body, the module reads the draft (rdmail) and posts its saved content again:
    /// the body after the header block as it is, and its own header lines (the user's headers
    /// and the MIME headers, docs/aos-protocol.md B9/B10) in mheader. Headers the server writes (From, To, Cc, Bcc,
    /// Subject, Date, Message-ID, X-Priority) are not copied; the saved Subject, Cc, Bcc (a server
    /// that keeps it in drafts; AOS and the sandbox do not) and priority are used only when the
    /// command gives none.
    /// </summary>
    public static class AosDraftContent
    {
        // X-AosMail-Draft-Token: drafts saved by AosMail 0.1 carry this bookkeeping header, which
        // must not go out to recipients when such a draft is sent (B24).
        private static readonly HashSet<string> NotCopied = new HashSet<string>(
            AosMessageParts.ServerWrittenHeaders.Concat(new[] { "X-AosMail-Draft-Token" }), StringComparer.OrdinalIgnoreCase);

        /// <summary>The submission with the saved draft's body and headers (B5 order kept); what each field takes is <see cref="AosFieldPart.Resend"/>.</summary>
        public static AosPreparedSubmission WithSavedContent(AosPreparedSubmission prepared, byte[] savedDraft)
        {
            if (prepared == null) throw new ArgumentNullException(nameof(prepared));
            var text = AosAnswer.Decode(savedDraft ?? Array.Empty<byte>());
            SplitHeaderBlock(text, out var headerBlock, out var body);

            var copied = new List<string>();
            var savedHeaders = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var header in FoldedFields(headerBlock))
            {
                int colon = header.IndexOf(':');
                if (colon <= 0) continue;
                var name = header.Substring(0, colon).Trim();
                savedHeaders[name] = header.Substring(colon + 1).Trim();
                if (!NotCopied.Contains(name)) copied.Add(header);
            }

            // Fields are kept as they are (a streamed MIME body included); only the plain ones change here.
            var fields = new Dictionary<string, AosFormField>(StringComparer.Ordinal);
            foreach (var field in prepared.Fields) fields[field.Name] = field;
            foreach (var part in AosMessageParts.Fields)
            {
                switch (part.Resend)
                {
                    case AosDraftResend.SavedUnlessGiven:
                        if (!fields.ContainsKey(part.Field) && savedHeaders.TryGetValue(part.StoredHeader!, out var saved) && IsUsable(part.Field, saved))
                        {
                            fields[part.Field] = AosFormField.Plain(part.Field, saved);
                        }

                        break;
                    case AosDraftResend.CommandThenSaved:
                        var lines = new List<string>();
                        if (fields.TryGetValue(part.Field, out var given) && !string.IsNullOrEmpty(given.Value)) lines.Add(given.Value!);
                        lines.AddRange(copied);
                        if (lines.Count > 0) fields[part.Field] = AosFormField.Plain(part.Field, string.Join("\r\n", lines));
                        else fields.Remove(part.Field);
                        break;
                    case AosDraftResend.SavedBody:
                        if (body.Length > 0) fields[part.Field] = AosFormField.Plain(part.Field, body);
                        else fields.Remove(part.Field);
                        break;
                }
            }

            var bccAddresses = prepared.Bcc.Count == 0 && fields.TryGetValue(AosProtocol.FieldBcc, out var bccField) && InternetAddressList.TryParse(bccField.Value!, out var savedBcc)
                ? savedBcc.Mailboxes.Select(m => m.Address).ToList()
                : prepared.Bcc;
            savedHeaders.TryGetValue("Subject", out var subject);
            return new AosPreparedSubmission(prepared.Kind, AosFormBuilder.InWireOrder(fields), prepared.To, prepared.Cc, bccAddresses,
                prepared.Subject ?? (subject == null ? null : AosListingParser.DecodeText(subject)), prepared.AttachmentCount, prepared.DraftId);
        }

        /// <summary>Whether a saved header's value can be posted again: a non-empty Bcc must hold addresses, a priority must be 1 to 5.</summary>
        private static bool IsUsable(string field, string value)
        {
            if (value.Length == 0) return false;
            if (field == AosProtocol.FieldBcc) return InternetAddressList.TryParse(value, out var list) && list.Mailboxes.Any();
            if (field == AosProtocol.FieldPriority)
            {
                return value.Length == 1 && value[0] >= '0' + AosProtocol.PriorityHighest && value[0] <= '0' + AosProtocol.PriorityLowest;
            }

            return true;
        }

        internal static void SplitHeaderBlock(string text, out string headers, out string body)
        {
            int crlf = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            int lf = text.IndexOf("\n\n", StringComparison.Ordinal);
            if (crlf >= 0 && (lf < 0 || crlf < lf))
            {
                headers = text.Substring(0, crlf);
                body = text.Substring(crlf + 4);
            }
            else if (lf >= 0)
            {
                headers = text.Substring(0, lf);
                body = text.Substring(lf + 2);
            }
            else
            {
                headers = text;
                body = "";
            }
        }

        /// <summary>A header block's fields as name and value (the value unfolded and trimmed).</summary>
        internal static IEnumerable<KeyValuePair<string, string>> HeaderFields(string block)
        {
            foreach (var header in FoldedFields(block))
            {
                int colon = header.IndexOf(':');
                if (colon <= 0) continue;
                yield return new KeyValuePair<string, string>(header.Substring(0, colon).Trim(),
                    header.Substring(colon + 1).Replace("\r\n", "").Trim());
            }
        }

        /// <summary>Header fields with their continuation lines kept (joined by CRLF, so mheader folds them as saved).</summary>
        internal static IEnumerable<string> FoldedFields(string block)
        {
            var current = new StringBuilder();
            foreach (var raw in block.Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                if (line.Length > 0 && (line[0] == ' ' || line[0] == '\t') && current.Length > 0)
                {
                    current.Append("\r\n").Append(line);
                    continue;
                }

                if (current.Length > 0) yield return current.ToString();
                current.Clear().Append(line);
            }

            if (current.Length > 0) yield return current.ToString();
        }
    }
}
