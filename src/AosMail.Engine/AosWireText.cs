using System;
using System.Collections.Generic;
using System.Text;

namespace AosMail.Engine
{
    /// <summary>
    /// The rules for text the module writes into a message's header or plain body, in one place
    /// (docs/aos-protocol.md B7, B8, B10): RFC 2047 encoded-words of at most 75 characters, RFC 5322
    /// folding to 78 characters where whitespace allows and 998 at most, and the test for a plain
    /// body that cannot go as it is.
    /// </summary>
    internal static class AosWireText
    {
        private const string WordStart = "=?utf-8?b?";
        private const string WordEnd = "?=";

        // Base64 turns 3 bytes into 4 characters: the most UTF-8 bytes one encoded-word holds.
        private static readonly int MaxWordBytes = (AosProtocol.MaxEncodedWordLength - WordStart.Length - WordEnd.Length) / 4 * 3;

        /// <summary>
        /// Unstructured header text (a subject, a -Header value) as it goes on the wire: as given
        /// when it is printable ASCII that no decoder can misread, else encoded-words, the first of
        /// them no longer than <paramref name="firstLineRoom"/> when that leaves room for a character.
        /// </summary>
        public static string HeaderText(string text, int firstLineRoom = AosProtocol.MaxEncodedWordLength) =>
            NeedsEncodedWords(text) ? EncodedWords(text, firstLineRoom) : text;

        /// <summary>
        /// Text that is not printable ASCII (TAB allowed), or that holds "=?" with a "?=" after it,
        /// which RFC 2047 decoders (lenient ones even inside a word) would take for an encoded-word.
        /// </summary>
        private static bool NeedsEncodedWords(string text)
        {
            foreach (char c in text)
            {
                if ((c < 0x20 && c != '\t') || c > 0x7E)
                {
                    return true;
                }
            }

            int start = text.IndexOf("=?", StringComparison.Ordinal);
            return start >= 0 && text.IndexOf("?=", start + 2, StringComparison.Ordinal) >= 0;
        }

        /// <summary>
        /// The whole text as UTF-8 "B" encoded-words of at most 75 characters, separated by single
        /// spaces on one line; each word holds whole characters (RFC 2047 5), and decoders drop the
        /// spaces between adjacent words, so the text decodes exactly.
        /// </summary>
        private static string EncodedWords(string text, int firstLineRoom)
        {
            var words = new List<string>();
            var utf8 = new UTF8Encoding(false);
            var bytes = new List<byte>(MaxWordBytes);
            int firstWordBytes = Math.Min(MaxWordBytes, (firstLineRoom - WordStart.Length - WordEnd.Length) / 4 * 3);
            int maxBytes = firstWordBytes >= 4 ? firstWordBytes : MaxWordBytes;
            for (int i = 0; i < text.Length; i++)
            {
                int length = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
                byte[] character = utf8.GetBytes(text.ToCharArray(i, length));
                if (bytes.Count + character.Length > maxBytes)
                {
                    maxBytes = MaxWordBytes;
                    words.Add(WordStart + Convert.ToBase64String(bytes.ToArray()) + WordEnd);
                    bytes.Clear();
                }

                bytes.AddRange(character);
                i += length - 1;
            }

            words.Add(WordStart + Convert.ToBase64String(bytes.ToArray()) + WordEnd);
            return string.Join(" ", words);
        }

        /// <summary>
        /// The header line "name: value" folded (RFC 5322 2.2.3: CRLF before a space or TAB that is
        /// there) so that each line holds at most 78 characters where the value's whitespace allows
        /// (never before its first word: parsers would keep that space); null when a line would
        /// still be longer than 998. Unfolding gives the line back exactly.
        /// </summary>
        public static string? FoldedHeaderLine(string name, string value)
        {
            var line = name + ": " + value;
            var lines = new List<string>();
            int start = 0;
            while (line.Length - start > AosProtocol.RecommendedLineLength)
            {
                int fold = FoldPoint(line, start, start == 0 ? name.Length + 2 : start + 1);
                if (fold < 0)
                {
                    break;
                }

                lines.Add(line.Substring(start, fold - start));
                start = fold;
            }

            lines.Add(line.Substring(start));
            foreach (var folded in lines)
            {
                if (folded.Length > AosProtocol.MaxHeaderLineLength)
                {
                    return null;
                }
            }

            return string.Join("\r\n", lines);
        }

        /// <summary>
        /// Where the line that starts at <paramref name="start"/> folds: the last whitespace from
        /// <paramref name="from"/> on that keeps it within 78 characters, else the first one after;
        /// -1 for none. A fold never leaves a line of whitespace only (RFC 5322 3.2.2), before or after it.
        /// </summary>
        private static int FoldPoint(string line, int start, int from)
        {
            int best = -1;
            bool text = false;
            int lastText = line.Length - 1;
            while (lastText > start && (line[lastText] == ' ' || line[lastText] == '\t'))
            {
                lastText--;
            }

            for (int i = from; i < line.Length; i++)
            {
                bool space = line[i] == ' ' || line[i] == '\t';
                if (!space)
                {
                    text = true;
                    continue;
                }

                if (!text || i > lastText)
                {
                    continue;
                }

                if (i - start <= AosProtocol.RecommendedLineLength || best < 0)
                {
                    best = i;
                }

                if (i - start >= AosProtocol.RecommendedLineLength)
                {
                    break;
                }
            }

            return best;
        }

        /// <summary>
        /// Whether a plain body (CRLF line endings) cannot go as it is (B8): a line over 78 octets,
        /// or a control character other than TAB, CR and LF (a NUL above all). Such a body goes as a
        /// MIME text part, which MimeKit encodes quoted-printable or base64.
        /// </summary>
        public static bool PlainBodyNeedsTransferEncoding(string text) => PlainBodyScan.Of(text).NeedsTransferEncoding;

        /// <summary>
        /// The B8 rule over a body given in pieces (a -BodyPath file read block by block), so the
        /// choice is made without holding the text: whether it needs a transfer encoding
        /// (<see cref="PlainBodyNeedsTransferEncoding"/>) and whether it is ASCII.
        /// </summary>
        internal sealed class PlainBodyScan
        {
            private int _octets;

            public bool NeedsTransferEncoding { get; private set; }

            public bool IsAscii { get; private set; } = true;

            /// <summary>The scan of a whole text.</summary>
            public static PlainBodyScan Of(string text)
            {
                var scan = new PlainBodyScan();
                foreach (char c in text)
                {
                    scan.Add(c);
                }

                return scan;
            }

            public void Add(char[] chars, int offset, int count)
            {
                for (int i = offset; i < offset + count; i++)
                {
                    Add(chars[i]);
                }
            }

            public void Add(char c)
            {
                if (c > 0x7F)
                {
                    IsAscii = false;
                }

                if (c == '\r' || c == '\n')
                {
                    _octets = 0;
                    return;
                }

                if ((c < 0x20 && c != '\t') || (c >= 0x7F && c <= 0x9F))
                {
                    NeedsTransferEncoding = true;
                }

                // UTF-8 octets: a surrogate pair is 4 (2 per half).
                _octets += c < 0x80 ? 1 : c < 0x800 ? 2 : char.IsSurrogate(c) ? 2 : 3;
                if (_octets > AosProtocol.RecommendedLineLength)
                {
                    NeedsTransferEncoding = true;
                }
            }
        }
    }
}
