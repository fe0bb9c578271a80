using System;
using System.IO;
using System.Net;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using System.Text.RegularExpressions;

namespace AosMail.Engine
{
    /// <summary>Reading what the server said (docs/aos-protocol.md B4, B13, B21), and turning it into text safe to show.</summary>
    internal static class AosAnswer
    {
        private static readonly Regex DroppedBlocks = new Regex("<(script|style)\\b[^>]*>.*?</\\1\\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant);
        private static readonly Regex Comments = new Regex("<!--.*?-->", RegexOptions.Singleline | RegexOptions.CultureInvariant);
        private static readonly Regex BreakingTags = new Regex("</?(br|p|div|h[1-6]|li|ul|ol|tr|td|th|table|title|head|body|html|pre|hr|blockquote|dt|dd)\\b[^>]*>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex OtherTags = new Regex("<[^>]*>", RegexOptions.CultureInvariant);
        private static readonly Regex Whitespace = new Regex("\\s+", RegexOptions.CultureInvariant);
        private static readonly char[] LineBreaks = { '\r', '\n' };

        /// <summary>B21: answers are UTF-8 (invalid bytes become U+FFFD; a BOM is dropped).</summary>
        public static string Decode(byte[] body)
        {
            var text = new UTF8Encoding(false, false).GetString(body ?? Array.Empty<byte>());
            return text.Length > 0 && text[0] == '\uFEFF' ? text.Substring(1) : text;
        }

        /// <summary>
        /// Replaces <paramref name="secret"/> in <paramref name="text"/>, as it is and as the form
        /// posted it (percent-encoded, in either case of hex digits), with a mask: a server may quote
        /// what it was sent. The secret's characters exist only for this call and are zeroed after it.
        /// </summary>
        internal static string MaskSecret(string text, SecureString secret)
        {
            if (secret.Length == 0 || text.Length == 0)
            {
                return text;
            }

            var chars = new char[secret.Length];
            byte[]? bytes = null;
            byte[]? encoded = null;
            var unmanaged = Marshal.SecureStringToGlobalAllocUnicode(secret);
            try
            {
                Marshal.Copy(unmanaged, chars, 0, chars.Length);
                text = ReplaceAll(text, chars, StringComparison.Ordinal);
                bytes = Encoding.UTF8.GetBytes(chars);
                using (var buffer = new MemoryStream())
                {
                    using (var encoder = new AosFormEncodingStream(buffer))
                    {
                        encoder.Write(bytes, 0, bytes.Length);
                        encoder.Flush();
                    }

                    encoded = buffer.ToArray();
                }

                // The form's encoding, and the same with %20 for a space (Uri.EscapeDataString's).
                Array.Clear(chars, 0, chars.Length);
                chars = Encoding.ASCII.GetChars(encoded);
                text = ReplaceAll(text, chars, StringComparison.OrdinalIgnoreCase);
                if (Array.IndexOf(chars, '+') >= 0)
                {
                    var spaced = new string(chars).Replace("+", "%20");
                    text = text.IndexOf(spaced, StringComparison.OrdinalIgnoreCase) >= 0 ? ReplaceAll(text, spaced.ToCharArray(), StringComparison.OrdinalIgnoreCase) : text;
                }
            }
            catch (ObjectDisposedException)
            {
                // The connection closed meanwhile: its password is gone, and with it what to mask.
            }
            finally
            {
                Marshal.ZeroFreeGlobalAllocUnicode(unmanaged);
                Array.Clear(chars, 0, chars.Length);
                if (bytes != null) Array.Clear(bytes, 0, bytes.Length);
                if (encoded != null) Array.Clear(encoded, 0, encoded.Length);
            }

            return text;
        }

        private static string ReplaceAll(string text, char[] value, StringComparison comparison)
        {
            if (value.Length == 0)
            {
                return text;
            }

            var builder = new StringBuilder(text.Length);
            int from = 0;
            int at;
            while ((at = IndexOf(text, value, from, comparison)) >= 0)
            {
                builder.Append(text, from, at - from).Append(AosProtocol.SecretMask);
                from = at + value.Length;
            }

            return from == 0 ? text : builder.Append(text, from, text.Length - from).ToString();
        }

        private static int IndexOf(string text, char[] value, int from, StringComparison comparison)
        {
            bool ignoreCase = comparison == StringComparison.OrdinalIgnoreCase;
            for (int i = from; i + value.Length <= text.Length; i++)
            {
                int j = 0;
                while (j < value.Length && (text[i + j] == value[j] || (ignoreCase && char.ToUpperInvariant(text[i + j]) == char.ToUpperInvariant(value[j]))))
                {
                    j++;
                }

                if (j == value.Length)
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>B4: the trimmed answer is a session id.</summary>
        public static bool IsSessionId(string answer) => AosProtocol.SidAnswer.IsMatch(answer.Trim());

        /// <summary>B13: the trimmed answer is "OK" in any case.</summary>
        public static bool IsOk(string answer) => string.Equals(answer.Trim(), AosProtocol.AnswerOk, StringComparison.OrdinalIgnoreCase);

        /// <summary>sqVry: the trimmed answer is "true" in any case.</summary>
        public static bool IsTrue(string answer) => string.Equals(answer.Trim(), AosProtocol.AnswerTrue, StringComparison.OrdinalIgnoreCase);

        /// <summary>A: the documented error shape, a first line "false" (any case).</summary>
        public static bool IsFalse(string answer)
        {
            var first = FirstNonEmptyLine(answer.Split(LineBreaks), 0, out _);
            return first != null && string.Equals(first, AosProtocol.AnswerFalse, StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>
        /// B4/B13: tags stripped, the first non-empty line (after a lone "false", the next one),
        /// whitespace collapsed, any SID masked, at most 300 characters. Empty when there is no text.
        /// </summary>
        public static string ServerText(string answer, SecureString? secret = null)
        {
            var text = DroppedBlocks.Replace(answer ?? "", "\n");
            text = Comments.Replace(text, "\n");
            text = BreakingTags.Replace(text, "\n");
            text = OtherTags.Replace(text, "");
            text = WebUtility.HtmlDecode(text);
            if (secret != null)
            {
                text = MaskSecret(text, secret);
            }

            var lines = text.Split(LineBreaks);
            var line = FirstNonEmptyLine(lines, 0, out int index);
            if (line != null && string.Equals(line, AosProtocol.AnswerFalse, StringComparison.OrdinalIgnoreCase))
            {
                line = FirstNonEmptyLine(lines, index + 1, out _) ?? line;
            }

            if (line == null)
            {
                return "";
            }

            line = Whitespace.Replace(line, " ");
            line = AosProtocol.SidAnywhere.Replace(line, AosProtocol.SidMask);
            if (line.Length > AosProtocol.ServerTextMaxLength)
            {
                line = line.Substring(0, AosProtocol.ServerTextMaxLength - 1) + "\u2026";
            }

            return line;
        }

        /// <summary>ServerText in quotes for a message, or a phrase when there is none; <paramref name="secret"/> (the password) masked where the server quotes it.</summary>
        public static string Quote(string answer, SecureString? secret = null)
        {
            var text = ServerText(answer, secret);
            return text.Length == 0 ? "an empty answer" : "\"" + text + "\"";
        }

        private static string? FirstNonEmptyLine(string[] lines, int start, out int index)
        {
            for (index = start; index < lines.Length; index++)
            {
                var trimmed = lines[index].Trim();
                if (trimmed.Length > 0)
                {
                    return trimmed;
                }
            }

            index = -1;
            return null;
        }
    }
}
