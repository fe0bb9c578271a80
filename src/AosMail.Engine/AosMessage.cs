using System.Collections.Generic;
using System.Text;

namespace AosMail.Engine
{
    /// <summary>
    /// What the user asked to send or save, as plain values. The engine validates it
    /// (<see cref="AosFormBuilder"/>) before anything touches the network.
    /// </summary>
    public sealed class AosMessage
    {
        /// <summary>Each entry is one address or an RFC 5322 address list ("a@x.org, Bob &lt;b@y.org&gt;").</summary>
        public IList<string> To { get; } = new List<string>();
        public IList<string> Cc { get; } = new List<string>();
        public IList<string> Bcc { get; } = new List<string>();
        public string? Subject { get; set; }
        public string? Body { get; set; }
        public bool BodyIsHtml { get; set; }

        /// <summary>A file (absolute path) whose text is the body, instead of <see cref="Body"/>.</summary>
        public string? BodyPath { get; set; }

        /// <summary>How <see cref="BodyPath"/> is encoded: UTF-8 when null; a byte order mark wins either way.</summary>
        public Encoding? BodyEncoding { get; set; }

        /// <summary>
        /// The plain-text alternative of an HTML body (multipart/alternative, text first); without
        /// an HTML body it is the plain body.
        /// </summary>
        public string? TextBody { get; set; }

        /// <summary>Files (absolute paths: the cmdlets resolve PowerShell provider paths first) or bytes.</summary>
        public IList<AosAttachmentSource> Attachments { get; } = new List<AosAttachmentSource>();

        /// <summary>
        /// Parts of an HTML body, by content id: the HTML shows each as &lt;img src="cid:id"&gt;
        /// (multipart/related, Content-ID and Content-Disposition: inline).
        /// </summary>
        public IList<KeyValuePair<string, AosAttachmentSource>> InlineAttachments { get; } = new List<KeyValuePair<string, AosAttachmentSource>>();

        /// <summary>Reply-To: addresses, each entry one address or an address list, as in To.</summary>
        public IList<string> ReplyTo { get; } = new List<string>();

        /// <summary>Where a read receipt goes (Disposition-Notification-To, RFC 8098), or null for none.</summary>
        public string? ReadReceiptTo { get; set; }

        /// <summary>1 (highest) to 5 (lowest), or null for "not asked for" (docs/aos-protocol.md B11: then no mprio).</summary>
        public int? Priority { get; set; }

        /// <summary>User headers in the order given; a name may repeat (B10).</summary>
        public IList<KeyValuePair<string, string>> Headers { get; } = new List<KeyValuePair<string, string>>();

        public bool KeepCopy { get; set; }

        /// <summary>A draft's message id (B12): saving overwrites it, sending sends its new content.</summary>
        public string? DraftId { get; set; }

        /// <summary>Once the message is sent or given up: deletes the temporary copies of attachment streams that could not seek.</summary>
        public void ReleaseContent()
        {
            foreach (var attachment in Attachments)
            {
                attachment.Dispose();
            }

            foreach (var inline in InlineAttachments)
            {
                inline.Value.Dispose();
            }
        }
    }

    /// <summary>B12: a submission either sends (snd) or saves a draft (svdrf), never both.</summary>
    public enum AosSubmitKind
    {
        Send,
        SaveDraft,
    }
}
