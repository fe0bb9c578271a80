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
        private static readonly HashSet<string> NotCopied = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "X-Priority", "X-AosMail-Draft-Token",
        };

        /// <summary>The submission with the saved draft's body and headers (B5 order kept).</summary>
        public static AosPreparedSubmission WithSavedContent(AosPreparedSubmission prepared, byte[] savedDraft)
        {
            if (prepared == null) throw new ArgumentNullException(nameof(prepared));
            var text = AosAnswer.Decode(savedDraft ?? Array.Empty<byte>());
            SplitHeaderBlock(text, out var headerBlock, out var body);

            var copied = new List<string>();
            string? subject = null, cc = null, bcc = null, priority = null;
            foreach (var header in Unfold(headerBlock))
            {
                int colon = header.IndexOf(':');
                if (colon <= 0) continue;
                var name = header.Substring(0, colon).Trim();
                var value = header.Substring(colon + 1).Trim();
                if (string.Equals(name, "Subject", StringComparison.OrdinalIgnoreCase)) subject = value;
                else if (string.Equals(name, "Cc", StringComparison.OrdinalIgnoreCase)) cc = value;
                else if (string.Equals(name, "Bcc", StringComparison.OrdinalIgnoreCase)) bcc = value;
                else if (string.Equals(name, "X-Priority", StringComparison.OrdinalIgnoreCase)) priority = value;
                if (!NotCopied.Contains(name)) copied.Add(header);
            }

            // Fields are kept as they are (a streamed MIME body included); only the plain ones change here.
            var fields = new Dictionary<string, AosFormField>(StringComparer.Ordinal);
            foreach (var field in prepared.Fields) fields[field.Name] = field;
            if (!fields.ContainsKey(AosProtocol.FieldSubject) && !string.IsNullOrEmpty(subject)) fields[AosProtocol.FieldSubject] = AosFormField.Plain(AosProtocol.FieldSubject, subject!);
            if (!fields.ContainsKey(AosProtocol.FieldCc) && !string.IsNullOrEmpty(cc)) fields[AosProtocol.FieldCc] = AosFormField.Plain(AosProtocol.FieldCc, cc!);
            var bccAddresses = prepared.Bcc;
            if (!fields.ContainsKey(AosProtocol.FieldBcc) && !string.IsNullOrEmpty(bcc) && InternetAddressList.TryParse(bcc, out var savedBcc) && savedBcc.Mailboxes.Any())
            {
                fields[AosProtocol.FieldBcc] = AosFormField.Plain(AosProtocol.FieldBcc, bcc!);
                bccAddresses = savedBcc.Mailboxes.Select(m => m.Address).ToList();
            }

            if (!fields.ContainsKey(AosProtocol.FieldPriority) && priority != null && priority.Length == 1
                && priority[0] >= '0' + AosProtocol.PriorityHighest && priority[0] <= '0' + AosProtocol.PriorityLowest)
            {
                fields[AosProtocol.FieldPriority] = AosFormField.Plain(AosProtocol.FieldPriority, priority);
            }

            var headerLines = new List<string>();
            if (fields.TryGetValue(AosProtocol.FieldHeader, out var given) && !string.IsNullOrEmpty(given.Value)) headerLines.Add(given.Value!);
            headerLines.AddRange(copied);
            if (headerLines.Count > 0) fields[AosProtocol.FieldHeader] = AosFormField.Plain(AosProtocol.FieldHeader, string.Join("\r\n", headerLines));
            else fields.Remove(AosProtocol.FieldHeader);
            if (body.Length > 0) fields[AosProtocol.FieldBody] = AosFormField.Plain(AosProtocol.FieldBody, body);
            else fields.Remove(AosProtocol.FieldBody);

            return new AosPreparedSubmission(prepared.Kind, AosFormBuilder.InWireOrder(fields), prepared.To, prepared.Cc, bccAddresses,
                prepared.Subject ?? (subject == null ? null : AosListingParser.DecodeText(subject)), prepared.AttachmentCount, prepared.DraftId);
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
            foreach (var header in Unfold(block))
            {
                int colon = header.IndexOf(':');
                if (colon <= 0) continue;
                yield return new KeyValuePair<string, string>(header.Substring(0, colon).Trim(),
                    header.Substring(colon + 1).Replace("\r\n", "").Trim());
            }
        }

        /// <summary>Header fields with their continuation lines kept (joined by CRLF, so mheader folds them as saved).</summary>
        private static IEnumerable<string> Unfold(string block)
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
