using System;

namespace AosMail.Engine
{
    /// <summary>
    /// An attachment's file name and content: a file, read when the message is sent and never
    /// held; or bytes given in memory. The MIME type comes from the file name (MimeKit's table).
    /// </summary>
    public sealed class AosAttachmentSource
    {
        private AosAttachmentSource(string fileName, string? path, byte[]? content)
        {
            FileName = fileName;
            Path = path;
            Content = content;
        }

        /// <summary>A file by its absolute path; its name is the file's own unless one is given.</summary>
        public static AosAttachmentSource FromFile(string path, string? fileName = null) =>
            new AosAttachmentSource(fileName ?? System.IO.Path.GetFileName(path ?? ""), path ?? throw new ArgumentNullException(nameof(path)), null);

        public static AosAttachmentSource FromBytes(string fileName, byte[] content) =>
            new AosAttachmentSource(fileName ?? "", null, content ?? throw new ArgumentNullException(nameof(content)));

        /// <summary>The name the recipient sees (Content-Disposition filename).</summary>
        public string FileName { get; }

        /// <summary>The file to read, or null for content given in memory.</summary>
        public string? Path { get; }

        /// <summary>The content given in memory, or null for a file.</summary>
        public byte[]? Content { get; }

        public override string ToString() =>
            Path ?? (string.IsNullOrWhiteSpace(FileName) ? $"{Content?.Length ?? 0} bytes without a name" : FileName);
    }
}
