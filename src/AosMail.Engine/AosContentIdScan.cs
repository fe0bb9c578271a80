using System;
using System.Text;

namespace AosMail.Engine
{
    /// <summary>
    /// Finds the cid: URLs (RFC 2392) of an HTML body given in pieces, so a -BodyPath file is
    /// checked without being held: a cid: where HTML or CSS puts a URL, after a quote, '=' or '('
    /// and any whitespace (src="cid:logo", url(cid:logo)), so text such as "ticket CID:42" is not
    /// taken for one; "cid:" in any case; the id ends at a quote, whitespace, ')' or '>'.
    /// </summary>
    internal sealed class AosContentIdScan
    {
        // An id that is not unescaped yet; longer than this it cannot be a given one (those have at
        // most MaxContentIdLength characters, and an escape is three), so the rest is not kept.
        private const int MaxKeptLength = 3 * AosProtocol.MaxContentIdLength + 3;

        private readonly Action<string> _found;
        private readonly StringBuilder _id = new StringBuilder();
        private char _lastText;
        private int _matched;

        /// <param name="found">Told each referenced id, unescaped, as it is found.</param>
        public AosContentIdScan(Action<string> found)
        {
            _found = found ?? throw new ArgumentNullException(nameof(found));
        }

        public void Add(string text)
        {
            foreach (char c in text)
            {
                Next(c);
            }
        }

        public void Add(char[] chars, int offset, int count)
        {
            for (int i = offset; i < offset + count; i++)
            {
                Next(chars[i]);
            }
        }

        /// <summary>The end of the text: an id that runs to it is complete.</summary>
        public void End()
        {
            if (_matched == 4 && _id.Length > 0)
            {
                Found();
            }

            _matched = 0;
        }

        private void Next(char c)
        {
            switch (_matched)
            {
                case 1 when c == 'i' || c == 'I':
                case 2 when c == 'd' || c == 'D':
                case 3 when c == ':':
                    _matched++;
                    _lastText = c;
                    return;
                case 4 when !IsIdEnd(c):
                    if (_id.Length < MaxKeptLength)
                    {
                        _id.Append(c);
                    }

                    _lastText = c;
                    return;
                case 4 when _id.Length > 0:
                    Found();
                    break;
            }

            // Not (or no longer) inside "cid:": a reference starts here when a URL may.
            _matched = (c == 'c' || c == 'C') && IsUrlStart(_lastText) ? 1 : 0;
            if (!char.IsWhiteSpace(c))
            {
                _lastText = c;
            }
        }

        private void Found()
        {
            var id = _id.ToString();
            _id.Clear();
            _matched = 0;
            _found(Uri.UnescapeDataString(id));
        }

        private static bool IsUrlStart(char c) => c == '"' || c == '\'' || c == '=' || c == '(';

        private static bool IsIdEnd(char c) => c == '"' || c == '\'' || c == ')' || c == '>' || char.IsWhiteSpace(c);
    }
}
