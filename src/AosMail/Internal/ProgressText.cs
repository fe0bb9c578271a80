using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using AosMail.Engine;

namespace AosMail.Internal
{
    /// <summary>The words of the progress records: sizes as the user knows them (files on disk), and bytes on the wire.</summary>
    internal static class ProgressText
    {
        /// <summary>Sizes in the user's culture, in MB (1,048,576 bytes) as Explorer and Get-ChildItem users think of them.</summary>
        public static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("N1", CultureInfo.CurrentCulture) + " MB";

        /// <summary>"12.0 of 30.4 MB sent", "5.0 of 287.0 MB read", "5.0 MB read" (size unknown).</summary>
        public static string Transfer(AosTransferProgress progress)
        {
            string done = progress.Download ? "read" : "sent";
            return progress.TotalBytes < 0
                ? $"{Megabytes(progress.BytesSent)} {done}"
                : $"{(progress.BytesSent / 1048576.0).ToString("N1", CultureInfo.CurrentCulture)} of {Megabytes(progress.TotalBytes)} {done}";
        }

        /// <summary>
        /// The title of a message's upload: its subject and its files with their sizes on disk
        /// ("Uploading 'Q3' with report.pdf (20.0 MB)"), the sizes the user knows, not the encoded request's.
        /// </summary>
        public static string Upload(AosMessage message, bool send)
        {
            string title = (send ? "Uploading " : "Uploading draft ") + (string.IsNullOrEmpty(message.Subject) ? "(no subject)" : "'" + message.Subject + "'");
            List<string> files = message.Attachments.Concat(message.InlineAttachments.Select(i => i.Value))
                .Select(a => $"{a.FileName} ({Megabytes(SizeOf(a))})").ToList();
            if (files.Count == 0) return title;
            const int shown = 3;
            string list = string.Join(", ", files.Take(shown));
            return title + " with " + (files.Count > shown ? $"{list} and {files.Count - shown} more" : list);
        }

        private static long SizeOf(AosAttachmentSource attachment)
        {
            if (attachment.ContentLength is long known) return known;
            try
            {
                return new FileInfo(attachment.Path!).Length;
            }
            catch (IOException)
            {
                return 0;
            }
            catch (System.UnauthorizedAccessException)
            {
                return 0;
            }
        }
    }
}
