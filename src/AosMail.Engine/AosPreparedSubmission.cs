using System.Collections.Generic;

namespace AosMail.Engine
{
    /// <summary>
    /// A validated message, turned into the sdmailact form fields (docs/aos-protocol.md B5 order, without the SID,
    /// which the connection supplies in the URL). Built with no network access, so -WhatIf
    /// and validation errors never reach the server.
    /// </summary>
    public sealed class AosPreparedSubmission
    {
        public AosPreparedSubmission(AosSubmitKind kind, IReadOnlyList<AosFormField> fields,
            IReadOnlyList<string> to, IReadOnlyList<string> cc, IReadOnlyList<string> bcc,
            string? subject, int attachmentCount, string? draftId, IReadOnlyList<string>? warnings = null)
        {
            Kind = kind;
            Fields = fields;
            To = to;
            Cc = cc;
            Bcc = bcc;
            Subject = subject;
            AttachmentCount = attachmentCount;
            DraftId = draftId;
            Warnings = warnings ?? new string[0];
        }

        public AosSubmitKind Kind { get; }

        /// <summary>
        /// The form fields in wire order: api, mid, mto, mcc, mbcc, msub, body, mprio, mheader, snd|svdrf, keepcopy.
        /// A MIME body (B9) is a streamed field: MimeKit writes it into the request when it is sent.
        /// </summary>
        public IReadOnlyList<AosFormField> Fields { get; }

        /// <summary>Recipients as normalised "addr-spec" strings (for messages to the user, not the wire).</summary>
        public IReadOnlyList<string> To { get; }
        public IReadOnlyList<string> Cc { get; }
        public IReadOnlyList<string> Bcc { get; }

        /// <summary>The subject as the user gave it (not the encoded wire form).</summary>
        public string? Subject { get; }
        public int AttachmentCount { get; }
        public string? DraftId { get; }

        /// <summary>What is sent as asked but is likely a mistake (an inline attachment the HTML never shows), for the user to hear of.</summary>
        public IReadOnlyList<string> Warnings { get; }

        /// <summary>
        /// Whether sending this form can report upload progress, which starts at
        /// <see cref="AosProtocol.ProgressThresholdBytes"/>: always with a MIME body; for plain values
        /// (a -BodyPath text too) only when their text could encode that large (a char never encodes to more than
        /// <see cref="AosFormEncodingStream.MaxEncodedBytesPerChar"/> bytes). Lets a caller skip the progress plumbing of a
        /// small message without measuring it.
        /// </summary>
        public bool MayReportProgress
        {
            get
            {
                long bound = 0;
                foreach (var formField in Fields)
                {
                    // A -BodyPath text is streamed, but its UTF-8 length is known: at most 3 bytes ("%XX") each.
                    if (formField.Writer is AosBodyFile file)
                    {
                        bound += (formField.Name.Length + 2L) * AosFormEncodingStream.MaxEncodedBytesPerChar + 3 * file.Utf8Length;
                        continue;
                    }

                    if (formField.IsStreamed)
                    {
                        return true;
                    }

                    bound += (formField.Name.Length + 2L + (formField.Value?.Length ?? 0)) * AosFormEncodingStream.MaxEncodedBytesPerChar;
                }

                return bound >= AosProtocol.ProgressThresholdBytes;
            }
        }
    }
}
