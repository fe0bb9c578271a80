using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using AosMail.Engine;

namespace AosMail.Internal
{
    /// <summary>
    /// Turns -Attachments entries and -InlineAttachments values (<see cref="AosAttachment"/>: a
    /// path, a FileInfo, or Name and Content) into the engine's sources. Paths go through the
    /// cmdlet's resolver (PowerShell paths, relative to the current location); content given
    /// in memory is taken as bytes now, a stream read from its current position.
    /// </summary>
    internal sealed class AttachmentInput
    {
        private readonly Func<string, string?> _resolve;

        public AttachmentInput(Func<string, string?> resolve)
        {
            _resolve = resolve;
        }

        public AosAttachmentSource ToSource(AosAttachment attachment)
        {
            object? content = attachment.Content is PSObject wrapped ? wrapped.BaseObject : attachment.Content;
            if (content is null)
            {
                string path = attachment.Path ?? "";
                string resolved = string.IsNullOrWhiteSpace(path) ? "" : _resolve(path) ?? throw new AosException(AosErrorIds.AttachmentNotFound,
                    AosErrorCategory.ObjectNotFound, $"The attachment '{path}' is not a file-system path. Nothing was sent.", path);
                return AosAttachmentSource.FromFile(resolved, string.IsNullOrWhiteSpace(attachment.Name) ? null : attachment.Name);
            }

            if (!string.IsNullOrWhiteSpace(attachment.Path))
            {
                throw Invalid(attachment, $"The attachment '{attachment}' has both a Path and a Content: give one of them.");
            }

            return AosAttachmentSource.FromBytes(attachment.Name ?? "", Bytes(attachment, content));
        }

        /// <summary>
        /// -InlineAttachments as content id and source: an ordered dictionary in its order, a
        /// hashtable sorted by content id (it has no order), so the wire is repeatable.
        /// </summary>
        public IEnumerable<KeyValuePair<string, AosAttachmentSource>> Inline(IDictionary? inline)
        {
            if (inline is null) yield break;

            IEnumerable<DictionaryEntry> entries = inline.Cast<DictionaryEntry>();
            if (!(inline is IOrderedDictionary))
            {
                entries = entries.OrderBy(e => Text(e.Key), StringComparer.OrdinalIgnoreCase);
            }

            foreach (DictionaryEntry entry in entries)
            {
                string contentId = Text(entry.Key);
                object? value = entry.Value is PSObject wrapped ? wrapped.BaseObject : entry.Value;
                if (!(value is AosAttachment attachment) && (value is null || !LanguagePrimitives.TryConvertTo(value, out attachment)))
                {
                    throw new AosException(AosErrorIds.InvalidAttachment, AosErrorCategory.InvalidArgument,
                        $"The inline attachment '{contentId}' is {(value is null ? "$null" : "a " + value.GetType().Name)}: give a path, a file (Get-Item) or @{{ Name = ...; Content = ... }}.", contentId);
                }

                yield return new KeyValuePair<string, AosAttachmentSource>(contentId, ToSource(attachment));
            }
        }

        private static byte[] Bytes(AosAttachment attachment, object content)
        {
            switch (content)
            {
                case byte[] bytes:
                    return bytes;
                case string text:
                    return new UTF8Encoding(false).GetBytes(text);
                case Stream stream:
                    try
                    {
                        using (var copy = new MemoryStream())
                        {
                            stream.CopyTo(copy);
                            return copy.ToArray();
                        }
                    }
                    catch (Exception e) when (!(e is PipelineStoppedException) && !(e is OperationCanceledException))
                    {
                        // The caller's stream may fail any way it likes (a script class throws a
                        // RuntimeException, a denied read UnauthorizedAccessException): it is bad input.
                        throw Invalid(attachment, $"The content stream of attachment '{attachment}' could not be read: {e.Message}");
                    }
            }

            // A PowerShell array of numbers (@(0x50, 0x4B)) converts; anything else is not content.
            if (content is IEnumerable && LanguagePrimitives.TryConvertTo(content, out byte[] converted))
            {
                return converted;
            }

            throw Invalid(attachment, $"The content of attachment '{attachment}' is a {content.GetType().Name}: give bytes ([byte[]]), a stream or text.");
        }

        private static AosException Invalid(AosAttachment attachment, string message) =>
            new AosException(AosErrorIds.InvalidAttachment, AosErrorCategory.InvalidArgument, message, attachment);

        private static string Text(object? value) =>
            value is null ? "" : LanguagePrimitives.ConvertTo<string>(value is PSObject pso ? pso.BaseObject : value) ?? "";
    }
}
