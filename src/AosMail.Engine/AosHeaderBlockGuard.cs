using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;
using static System.FormattableString;

namespace AosMail.Engine
{
    /// <summary>
    /// docs/aos-protocol.md B23: refuses a read message whose header block (the message's own, a
    /// MIME part's, or an attached message's) is larger than <see cref="AosProtocol.HeaderBlockMaxBytes"/>,
    /// while it is being read and before MimeKit parses it: MimeKit's time grows with the square of
    /// one header's length, so a server that sends a 16 MB header line would hold a read for hours.
    /// It knows just enough MIME to find header blocks: a block ends at the first empty line; a
    /// new one starts after a boundary line of a multipart declared in an earlier block, and right
    /// after the block of a message/rfc822 part. Bodies pass through unexamined but for the first
    /// bytes of each line (to recognise a boundary).
    /// </summary>
    internal sealed class AosHeaderBlockGuard
    {
        // RFC 2046 5.1.1: a boundary is at most 70 characters; a delimiter line is "--" + boundary,
        // optionally "--" and trailing white space. A line longer than this is never a delimiter.
        private const int DelimiterLineMaxBytes = 2 + 70 + 2 + 32;

        private static readonly Regex ContentType = new Regex(
            @"^content-type[ \t]*:[ \t]*(?<type>[^;\s]+)(?<params>.*)$",
            RegexOptions.IgnoreCase | RegexOptions.Multiline | RegexOptions.CultureInvariant);

        private static readonly Regex Boundary = new Regex(
            "(?:^|;)[ \\t]*boundary[ \\t]*=[ \\t]*(?:\"(?<b>[^\"]*)\"|(?<b>[^;\\s]+))",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        private static readonly Encoding Latin1 = Encoding.GetEncoding("iso-8859-1");

        private readonly string _id;
        private readonly long _limit;
        private readonly HashSet<string> _boundaries = new HashSet<string>(StringComparer.Ordinal);
        private readonly MemoryStream _block = new MemoryStream();
        private readonly byte[] _line = new byte[DelimiterLineMaxBytes];
        private bool _inHeader = true;
        private long _blockStart;
        private long _position;
        private int _lineLength;
        private bool _lineTooLong;

        public AosHeaderBlockGuard(string id, long limit = AosProtocol.HeaderBlockMaxBytes)
        {
            _id = id;
            _limit = limit;
        }

        /// <summary>The next bytes of the message, in order. Throws AosServerRejected (ProtocolError) at the first header block over the limit.</summary>
        public void Feed(byte[] buffer, int offset, int count)
        {
            int end = offset + count;
            for (int i = offset; i < end; i++)
            {
                byte b = buffer[i];
                _position++;
                if (_inHeader)
                {
                    _block.WriteByte(b);
                    if (_position - _blockStart > _limit)
                    {
                        throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                            Invariant($"The message '{_id}' has a header block larger than {_limit} bytes (it starts at byte {_blockStart}): ")
                            + "more than any mail system writes, and too large to parse. Save-AosMessage saves the message as it is.", _id);
                    }
                }
                else if (_lineLength < _line.Length)
                {
                    _line[_lineLength++] = b;
                }
                else
                {
                    _lineTooLong = true;
                }

                if (b == (byte)'\n')
                {
                    EndOfLine();
                }
            }
        }

        private void EndOfLine()
        {
            if (_inHeader)
            {
                if (IsBlankLineAtEndOfBlock())
                {
                    EndOfHeaderBlock();
                }

                return;
            }

            if (!_lineTooLong && _lineLength > 2 && _line[0] == (byte)'-' && _line[1] == (byte)'-')
            {
                string delimiter = Latin1.GetString(_line, 2, _lineLength - 2).TrimEnd(' ', '\t', '\r', '\n');
                if (_boundaries.Contains(delimiter))
                {
                    StartHeaderBlock();
                }
            }

            _lineLength = 0;
            _lineTooLong = false;
        }

        private bool IsBlankLineAtEndOfBlock()
        {
            // The block's bytes end with this line's LF; the line is blank when it is "\n" or "\r\n"
            // and starts the block or follows another line's LF.
            var bytes = _block.GetBuffer();
            long n = _block.Length;
            if (n == 1)
            {
                return true;
            }

            if (bytes[n - 2] == (byte)'\n')
            {
                return true;
            }

            return bytes[n - 2] == (byte)'\r' && (n == 2 || bytes[n - 3] == (byte)'\n');
        }

        private void EndOfHeaderBlock()
        {
            // Unfolded (RFC 5322 2.2.3) so that a parameter on a continuation line is found.
            string headers = Regex.Replace(Latin1.GetString(_block.GetBuffer(), 0, (int)_block.Length), "\r?\n(?=[ \t])", "");
            _block.SetLength(0);
            _inHeader = false;
            _lineLength = 0;
            _lineTooLong = false;

            var type = ContentType.Match(headers);
            if (!type.Success)
            {
                return;
            }

            string mediaType = type.Groups["type"].Value;
            if (mediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
            {
                // A closing delimiter ("--b--") never starts a block: "b--" is a boundary of its own only if declared.
                var boundary = Boundary.Match(type.Groups["params"].Value.Trim());
                if (boundary.Success)
                {
                    _boundaries.Add(boundary.Groups["b"].Value.TrimEnd(' ', '\t'));
                }
            }
            else if (mediaType.Equals("message/rfc822", StringComparison.OrdinalIgnoreCase)
                || mediaType.Equals("message/global", StringComparison.OrdinalIgnoreCase))
            {
                StartHeaderBlock();
            }
        }

        private void StartHeaderBlock()
        {
            _inHeader = true;
            _blockStart = _position;
            _block.SetLength(0);
            _lineLength = 0;
            _lineTooLong = false;
        }
    }
}
