using System.Collections.Generic;

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

        /// <summary>Absolute file-system paths; the cmdlets resolve PowerShell provider paths first.</summary>
        public IList<string> Attachments { get; } = new List<string>();

        /// <summary>1 (highest) to 5 (lowest), or null for "not asked for" (docs/aos-protocol.md B11: then no mprio).</summary>
        public int? Priority { get; set; }

        /// <summary>User headers in the order given; a name may repeat (B10).</summary>
        public IList<KeyValuePair<string, string>> Headers { get; } = new List<KeyValuePair<string, string>>();

        public bool KeepCopy { get; set; }

        /// <summary>A draft's message id (B12): saving overwrites it, sending sends its new content.</summary>
        public string? DraftId { get; set; }
    }

    /// <summary>B12: a submission either sends (snd) or saves a draft (svdrf), never both.</summary>
    public enum AosSubmitKind
    {
        Send,
        SaveDraft,
    }
}
