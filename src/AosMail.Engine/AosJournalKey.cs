using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
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
        /// Hashes the recipients, subject, body (and whether it is HTML), priority, headers, draft id,
        /// text body, body file (content hash) and encoding, Reply-To, read receipt, and each
        /// attachment's and inline image's name and content hash, in that order, each value length-prefixed.
        /// KeepCopy is left out: it decides where a copy is kept, not what is sent.
        /// </summary>
        public static string Of(AosMessage message)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            using (var data = SHA256.Create())
            {
                AddList(data, "to", message.To);
                AddList(data, "cc", message.Cc);
                AddList(data, "bcc", message.Bcc);
                Add(data, "subject", message.Subject);
                Add(data, "body", message.Body);
                Add(data, "html", message.BodyIsHtml ? "1" : "0");
                Add(data, "priority", message.Priority?.ToString(CultureInfo.InvariantCulture));
                foreach (var header in message.Headers)
                {
                    Add(data, "header", header.Key);
                    Add(data, "value", header.Value);
                }

                Add(data, "draft", message.DraftId);
                Add(data, "text", message.TextBody);
                Add(data, "bodyfile", message.BodyPath == null ? null : HashFile(message.BodyPath));
                Add(data, "encoding", message.BodyEncoding?.WebName);
                AddList(data, "replyto", message.ReplyTo);
                Add(data, "receipt", message.ReadReceiptTo);
                foreach (var attachment in message.Attachments)
                {
                    Add(data, "attachment", attachment.FileName);
                    Add(data, "content", HashContent(attachment));
                }

                foreach (var inline in message.InlineAttachments)
                {
                    Add(data, "inline", inline.Key);
                    Add(data, "content", HashContent(inline.Value));
                }

                data.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
                return ContentPrefix + Hex(data.Hash);
            }
        }

        private static string HashContent(AosAttachmentSource source)
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

        private static string HashFile(string path)
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

        private static void AddList(HashAlgorithm data, string name, IList<string> values)
        {
            Add(data, name, values.Count.ToString(CultureInfo.InvariantCulture));
            foreach (var value in values)
            {
                Add(data, name, value);
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
