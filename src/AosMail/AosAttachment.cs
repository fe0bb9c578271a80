using System.IO;

namespace AosMail
{
    /// <summary>
    /// One entry of -Attachments (or a value of -InlineAttachments). PowerShell converts to it
    /// what users naturally give: a path (string), a FileInfo (Get-Item, Get-ChildItem), or
    /// a hashtable or object with Name and Content, the content being bytes, a stream or text:
    /// @{ Name = 'report.csv'; Content = [Text.Encoding]::UTF8.GetBytes($csv) }.
    /// </summary>
    public sealed class AosAttachment
    {
        /// <summary>For PowerShell's conversion of a hashtable or object with Name and Content.</summary>
        public AosAttachment()
        {
        }

        /// <summary>A file by its PowerShell path, relative to the current location.</summary>
        public AosAttachment(string path)
        {
            Path = path;
        }

        public AosAttachment(FileInfo file)
        {
            Path = file?.FullName;
        }

        /// <summary>The file to attach (a PowerShell path); null for content given in memory.</summary>
        public string? Path { get; set; }

        /// <summary>The name the recipient sees; it also gives the content type. Default: the file's name.</summary>
        public string? Name { get; set; }

        /// <summary>Content given in memory: bytes, a stream (read from its current position) or text (sent as UTF-8).</summary>
        public object? Content { get; set; }

        /// <summary>A blank path (an empty CSV cell): not an attachment at all. An entry with no Path at all (@{}) is not blank but empty, an error.</summary>
        internal bool IsBlank => Path is not null && string.IsNullOrWhiteSpace(Path) && Content is null && string.IsNullOrWhiteSpace(Name);

        /// <summary>The name, else the path; an entry with neither and no content (@{}) says so, as the target of its error.</summary>
        public override string ToString() => Name ?? Path ?? (Content is null ? "(empty attachment entry)" : "");
    }
}
