using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace AosMail.Engine
{
    /// <summary>
    /// The journal key of a message made from its content: a SHA-256 over everything that makes the
    /// message, so the same row gives the same key in every run and no content is written to the journal.
    /// </summary>
    public static class AosJournalKey
    {
        /// <summary>The prefix of a content key, so that it cannot be mistaken for a value of a named property.</summary>
        public const string ContentPrefix = "sha256:";

        /// <summary>
        /// Hashes every posted field that makes the message (<see cref="AosMessageParts"/>: those marked keyed, in
        /// wire order, each name and value length-prefixed), so a field added to the form is in the key unless it is
        /// deliberately left out there. A streamed (MIME) body is written only as it is sent, with a random boundary:
        /// its sources are hashed instead (texts, and the bytes of the body file and of each attachment, never their
        /// paths), and mheader without the body's MIME lines. A plain body given as text is hashed as posted; a body file
        /// (streamed, plain or MIME) by its bytes and encoding. Left out: KeepCopy (where a copy is kept, not what is sent) and the command (snd/svdrf).
        /// </summary>
        public static string Of(AosMessage message, AosPreparedSubmission prepared)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            if (prepared == null) throw new ArgumentNullException(nameof(prepared));
            bool streamedBody = prepared.Fields.Any(f => f.IsStreamed);
            using (var data = SHA256.Create())
            {
                foreach (var field in prepared.Fields)
                {
                    if (!AosMessageParts.Of(field.Name).Keyed)
                    {
                        continue;
                    }

                    if (!field.IsStreamed)
                    {
                        Add(data, field.Name, streamedBody && field.Name == AosProtocol.FieldHeader ? WithoutBodyHeaders(field.Value) : field.Value);
                        continue;
                    }

                    var sources = AosMessageParts.Properties.Where(p => p.Field == field.Name && p.BodySource != null).ToList();
                    if (sources.Count == 0)
                    {
                        throw new InvalidOperationException("The streamed field '" + field.Name + "' has no sources in AosMessageParts to key it by.");
                    }

                    Add(data, field.Name, "streamed");
                    foreach (var source in sources)
                    {
                        foreach (var value in source.BodySource!(message))
                        {
                            Add(data, source.Property, value);
                        }
                    }
                }

                data.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
                return ContentPrefix + Hex(data.Hash);
            }
        }

        /// <summary>mheader without the lines a streamed body brings (its sources are hashed instead).</summary>
        private static string? WithoutBodyHeaders(string? mheader)
        {
            if (mheader == null) return null;
            var kept = AosDraftContent.FoldedFields(mheader).Where(line =>
            {
                int colon = line.IndexOf(':');
                string name = colon > 0 ? line.Substring(0, colon).Trim() : line;
                return !AosMessageParts.BodyHeaders.Contains(name, StringComparer.OrdinalIgnoreCase);
            });
            return string.Join("\r\n", kept);
        }

        internal static string HashContent(AosAttachmentSource source)
        {
            if (source.Stream != null)
            {
                using (var sha = SHA256.Create())
                using (var content = source.OpenStream(strict: false))
                {
                    return Hex(sha.ComputeHash(content));
                }
            }

            return source.Content != null ? Hex(SHA256Bytes(source.Content)) : HashFile(source.Path!);
        }

        private static byte[] SHA256Bytes(byte[] content)
        {
            using (var sha = SHA256.Create())
            {
                return sha.ComputeHash(content);
            }
        }

        internal static string HashFile(string path)
        {
            try
            {
                using (var sha = SHA256.Create())
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920))
                {
                    return Hex(sha.ComputeHash(file));
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new AosException(AosErrorIds.AttachmentNotFound, AosErrorCategory.ObjectNotFound,
                    "The attachment '" + path + "' could not be read for the journal key: " + e.Message, path, e);
            }
        }

        /// <summary>Name, then the value's length (-1 for null) and UTF-8 bytes: no two different messages write the same bytes.</summary>
        private static void Add(HashAlgorithm data, string name, string? value)
        {
            byte[] bytes = value == null ? Array.Empty<byte>() : Encoding.UTF8.GetBytes(value);
            byte[] head = Encoding.ASCII.GetBytes(name + ":" + (value == null ? -1 : bytes.Length).ToString(CultureInfo.InvariantCulture) + ":");
            data.TransformBlock(head, 0, head.Length, null, 0);
            data.TransformBlock(bytes, 0, bytes.Length, null, 0);
        }

        private static string Hex(byte[] hash)
        {
            var text = new StringBuilder(hash.Length * 2);
            foreach (byte b in hash)
            {
                text.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            }

            return text.ToString();
        }
    }
}
