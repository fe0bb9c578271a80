using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AosMail.Sandbox;

/// <summary>One rule of the judge: its id, how bad a breach is, and what it checks.</summary>
public sealed record CheckRule(string Id, string Severity, string Description);

/// <summary>What the judge found: a rule broken, first on <see cref="Line"/> (1-based, in the
/// stored message), <see cref="Count"/> times in all.</summary>
public sealed record CheckFinding(string Rule, string Severity, long Line, long Count, string Detail);

/// <summary>
/// The sandbox's own judge of a stored message, written from RFC 5322, 2045, 2046 and 2047 over
/// the raw bytes. It deliberately uses no MIME library: the module writes its messages with
/// MimeKit, and a check that parsed them with MimeKit would share MimeKit's assumptions (and
/// forgive what MimeKit forgives). It reads the message once, as a stream, so a message of
/// hundreds of megabytes costs a buffer, not its size.
/// </summary>
public static partial class MessageJudge
{
    public const string Error = "error";
    public const string Warning = "warning";

    /// <summary>RFC 5322 2.1.1: a line MUST be at most 998 octets and SHOULD be at most 78, CRLF excluded.</summary>
    public const int MaxLineOctets = 998;
    public const int RecommendedLineOctets = 78;

    /// <summary>RFC 2045 6.7 (5) and 6.8: encoded lines are at most 76 characters.</summary>
    public const int MaxEncodedLineChars = 76;

    /// <summary>RFC 2047 2: an encoded-word is at most 75 characters.</summary>
    public const int MaxEncodedWordChars = 75;

    /// <summary>The rules, in the order docs/sandbox.md lists them.</summary>
    public static IReadOnlyList<CheckRule> Rules { get; } =
    [
        new("LineTooLong", Error, "a line is longer than 998 octets (RFC 5322 2.1.1)"),
        new("LineLong", Warning, "a line is longer than 78 octets (RFC 5322 2.1.1)"),
        new("Nul", Error, "a NUL octet (RFC 5322 2.1, RFC 2045 2.7)"),
        new("BareCr", Error, "a CR not followed by LF (RFC 5322 2.1)"),
        new("BareLf", Error, "an LF not preceded by CR (RFC 5322 2.1)"),
        new("EightBitHeader", Error, "an octet above 127 in a header line (RFC 5322 2.2)"),
        new("EightBitBody", Error, "an octet above 127 in a part whose transfer encoding is not 8bit or binary (RFC 2045 2.7, 6.2)"),
        new("HeaderSyntax", Error, "a header line that is neither 'Name: value' nor a continuation (RFC 5322 2.2, 3.6.8)"),
        new("HeaderMissing", Error, "no Date or no From field (RFC 5322 3.6)"),
        new("HeaderDuplicate", Error, "a field that may occur once occurs twice: Date, From, Sender, Reply-To, To, Cc, Bcc, Message-ID, In-Reply-To, References, Subject (RFC 5322 3.6); MIME-Version, Content-Type, Content-Transfer-Encoding (RFC 2045)"),
        new("DateSyntax", Error, "the Date field is not an RFC 5322 date-time (3.3)"),
        new("MessageIdSyntax", Error, "the Message-ID field is not <left@right> (RFC 5322 3.6.4)"),
        new("FromSyntax", Error, "the From field holds no address local@domain (RFC 5322 3.6.2)"),
        new("PrioritySyntax", Error, "the X-Priority field the server writes is not 1 to 5"),
        new("EncodedWordSyntax", Error, "a word that starts with =? and ends with ?= is not a valid encoded-word, or one is not separated by white space (RFC 2047 2, 4, 5)"),
        new("EncodedWordTooLong", Error, "an encoded-word is longer than 75 characters (RFC 2047 2)"),
        new("EncodedWordCharset", Error, "an encoded-word names a charset that is not known (RFC 2047 3)"),
        new("EncodedWordText", Error, "an encoded-word does not decode to whole characters of its charset (RFC 2047 5)"),
        new("EncodedWordInQuotedString", Error, "an encoded-word inside a quoted string, where no decoder may decode it (RFC 2047 5)"),
        new("MimeVersionMissing", Error, "MIME fields (Content-Type, Content-Transfer-Encoding) without MIME-Version: 1.0 (RFC 2045 4)"),
        new("MimeVersionSyntax", Error, "MIME-Version is not 1.0 (RFC 2045 4)"),
        new("ContentTypeSyntax", Error, "Content-Type is not type/subtype with ';' attribute=value parameters, value a token or quoted string, no parameter twice (RFC 2045 5.1)"),
        new("TransferEncodingUnknown", Error, "Content-Transfer-Encoding is not 7bit, 8bit, binary, quoted-printable, base64 or x-token (RFC 2045 6.1)"),
        new("MultipartEncoding", Error, "a multipart or message entity with a transfer encoding other than 7bit, 8bit or binary (RFC 2045 6.4)"),
        new("MultipartBoundaryMissing", Error, "a multipart Content-Type without a boundary parameter (RFC 2046 5.1.1)"),
        new("BoundarySyntax", Error, "a boundary that is not 1 to 70 of RFC 2046's bchars, not ending in a space (RFC 2046 5.1.1)"),
        new("MultipartNotClosed", Error, "a multipart whose close delimiter --boundary-- never comes (RFC 2046 5.1.1)"),
        new("MultipartEmpty", Error, "a multipart with no body part (RFC 2046 5.1.1)"),
        new("Base64LineLength", Error, "a base64 line longer than 76 characters (RFC 2045 6.8)"),
        new("Base64Alphabet", Error, "a base64 line with a character outside the base64 alphabet, or data after the '=' padding (RFC 2045 6.8)"),
        new("QuotedPrintableLineLength", Error, "a quoted-printable line longer than 76 characters (RFC 2045 6.7 rule 5)"),
        new("QuotedPrintableSyntax", Error, "a quoted-printable line with '=' not followed by two hex digits or the line end, a character it must encode, or white space at its end (RFC 2045 6.7)"),
    ];

    private static readonly Dictionary<string, CheckRule> RuleById = Rules.ToDictionary(r => r.Id);

    /// <summary>Judges a message from a stream, read to its end.</summary>
    public static IReadOnlyList<CheckFinding> Judge(Stream message)
    {
        var judge = new Reader();
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = message.Read(buffer, 0, buffer.Length)) > 0) judge.Feed(buffer.AsSpan(0, read));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return judge.Finish();
    }

    public static IReadOnlyList<CheckFinding> Judge(ReadOnlySpan<byte> message)
    {
        var judge = new Reader();
        judge.Feed(message);
        return judge.Finish();
    }

    /// <summary>Collects findings: one per rule and detail, with the first line and a count.</summary>
    private sealed class Findings
    {
        private readonly Dictionary<(string Rule, string Detail), (long Line, long Count)> _found = [];

        public void Add(string rule, long line, string detail)
        {
            var key = (rule, detail);
            _found[key] = _found.TryGetValue(key, out var seen) ? (seen.Line, seen.Count + 1) : (line, 1);
        }

        public IReadOnlyList<CheckFinding> ToList() =>
        [
            .. _found.OrderBy(f => f.Value.Line).ThenBy(f => f.Key.Rule, StringComparer.Ordinal)
                .Select(f => new CheckFinding(f.Key.Rule, RuleById[f.Key.Rule].Severity, f.Value.Line, f.Value.Count, f.Key.Detail)),
        ];
    }

    /// <summary>Splits the byte stream into lines (CRLF; a bare LF also ends a line, as readers
    /// treat it) and hands each to the structure reader with the facts the line rules need.</summary>
    private sealed class Reader
    {
        // Beyond this, a line's content is not kept: it is already over 998 octets, an error.
        private const int KeptLineOctets = 4096;

        private readonly Findings _findings = new();
        private readonly Structure _structure;
        private readonly byte[] _line = new byte[KeptLineOctets];
        private int _kept;
        private long _length;
        private long _lineNumber = 1;
        private bool _pendingCr;

        public Reader() => _structure = new Structure(_findings);

        public void Feed(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                if (_pendingCr)
                {
                    _pendingCr = false;
                    if (data[0] == (byte)'\n')
                    {
                        EndLine();
                        data = data[1..];
                        continue;
                    }
                    _findings.Add("BareCr", _lineNumber, "CR without LF");
                    Append([(byte)'\r']);
                }
                var end = data.IndexOfAny((byte)'\r', (byte)'\n');
                if (end < 0)
                {
                    Append(data);
                    return;
                }
                Append(data[..end]);
                if (data[end] == (byte)'\r') _pendingCr = true;
                else
                {
                    _findings.Add("BareLf", _lineNumber, "LF without CR");
                    EndLine();
                }
                data = data[(end + 1)..];
            }
        }

        public IReadOnlyList<CheckFinding> Finish()
        {
            if (_pendingCr) _findings.Add("BareCr", _lineNumber, "CR without LF");
            if (_pendingCr || _length > 0) EndLine();
            _structure.Finish(_lineNumber);
            return _findings.ToList();
        }

        private void Append(ReadOnlySpan<byte> piece)
        {
            if (piece.IsEmpty) return;
            if (piece.IndexOf((byte)0) >= 0) _findings.Add("Nul", _lineNumber, "NUL octet");
            var room = KeptLineOctets - _kept;
            if (room > 0)
            {
                var take = Math.Min(room, piece.Length);
                piece[..take].CopyTo(_line.AsSpan(_kept));
                _kept += take;
            }
            _length += piece.Length;
        }

        private void EndLine()
        {
            if (_length > MaxLineOctets) _findings.Add("LineTooLong", _lineNumber, "line over 998 octets");
            else if (_length > RecommendedLineOctets) _findings.Add("LineLong", _lineNumber, "line over 78 octets");
            _structure.Line(_lineNumber, _line.AsSpan(0, _kept), _length);
            _lineNumber++;
            _kept = 0;
            _length = 0;
        }
    }

    private sealed class Field(string name, long line)
    {
        public string Name { get; } = name;
        public long Line { get; } = line;
        public StringBuilder Value { get; } = new();
    }

    /// <summary>One message or body part: its header block, then its body.</summary>
    private sealed class Entity(bool top)
    {
        public bool Top { get; } = top;
        public bool InHeaders { get; set; } = true;
        public List<Field> Fields { get; } = [];
        public string? Boundary { get; set; }
        public bool IsMultipart { get; set; }
        /// <summary>The line of the Content-Type that made this entity a multipart.</summary>
        public long MultipartLine { get; set; }
        public string Encoding { get; set; } = "7bit";
        public int Parts { get; set; }
        public bool Closed { get; set; }
        public bool Base64Ended { get; set; }
    }

    /// <summary>Follows the MIME structure line by line: header blocks, multipart delimiters,
    /// and the body rules of each leaf's transfer encoding.</summary>
    private sealed class Structure(Findings findings)
    {
        // Header values past this are not kept (a field that long breaks the line rules anyway).
        private const int KeptFieldChars = 64 * 1024;

        private readonly List<Entity> _stack = [new Entity(top: true)];

        private Entity Current => _stack[^1];

        public void Line(long number, ReadOnlySpan<byte> line, long length)
        {
            if (_stack.Count > 1 || !Current.InHeaders)
            {
                if (TryDelimiter(number, line)) return;
            }
            if (Current.InHeaders) HeaderLine(number, line, length);
            else BodyLine(number, line, length);
        }

        public void Finish(long lines)
        {
            while (_stack.Count > 0)
            {
                var entity = _stack[^1];
                _stack.RemoveAt(_stack.Count - 1);
                if (entity.InHeaders) EndHeaders(entity);
                if (entity.IsMultipart && !entity.Closed) findings.Add("MultipartNotClosed", entity.MultipartLine, $"no close delimiter --{entity.Boundary}-- by the end (line {lines})");
                if (entity.IsMultipart && entity.Parts == 0) findings.Add("MultipartEmpty", entity.MultipartLine, "multipart without a body part");
            }
        }

        private bool TryDelimiter(long number, ReadOnlySpan<byte> line)
        {
            if (line.Length < 3 || line[0] != (byte)'-' || line[1] != (byte)'-') return false;
            for (var i = _stack.Count - 1; i >= 0; i--)
            {
                var entity = _stack[i];
                if (entity is not { IsMultipart: true, InHeaders: false, Boundary: { } boundary } || entity.Closed) continue;
                var rest = line[2..];
                if (!rest.StartsWith(System.Text.Encoding.Latin1.GetBytes(boundary))) continue;
                rest = rest[boundary.Length..];
                var close = rest.StartsWith("--"u8);
                if (close) rest = rest[2..];
                if (rest.TrimEnd(" \t"u8).Length != 0) continue;  // only transport padding may follow

                // Parts opened inside this multipart end here.
                while (_stack.Count - 1 > i)
                {
                    var inner = _stack[^1];
                    _stack.RemoveAt(_stack.Count - 1);
                    if (inner.InHeaders) EndHeaders(inner);
                    if (inner.IsMultipart && !inner.Closed) findings.Add("MultipartNotClosed", inner.MultipartLine, $"--{inner.Boundary}-- missing before line {number}");
                }
                if (close) entity.Closed = true;
                else
                {
                    entity.Parts++;
                    _stack.Add(new Entity(top: false));
                }
                return true;
            }
            return false;
        }

        private void HeaderLine(long number, ReadOnlySpan<byte> line, long length)
        {
            var entity = Current;
            if (length == 0)
            {
                EndHeaders(entity);
                return;
            }
            if (line.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0) findings.Add("EightBitHeader", number, "8-bit octet in a header");
            var text = System.Text.Encoding.Latin1.GetString(line);
            if (text[0] is ' ' or '\t')
            {
                if (entity.Fields.Count == 0) findings.Add("HeaderSyntax", number, "continuation line before any field");
                else Append(entity.Fields[^1], text);
                return;
            }
            var colon = text.IndexOf(':');
            var name = colon > 0 ? text[..colon].TrimEnd(' ', '\t') : "";
            if (name.Length == 0 || name.Any(c => c is < '!' or > '~'))
            {
                findings.Add("HeaderSyntax", number, "not 'Name: value'");
                return;
            }
            var field = new Field(name, number);
            Append(field, text[(colon + 1)..]);
            entity.Fields.Add(field);
        }

        private static void Append(Field field, string text)
        {
            var room = KeptFieldChars - field.Value.Length;
            if (room > 0) field.Value.Append(text.AsSpan(0, Math.Min(room, text.Length)));
        }

        private void EndHeaders(Entity entity)
        {
            entity.InHeaders = false;
            foreach (var field in entity.Fields) HeaderRules.EncodedWords(field.Name, field.Value.ToString(), field.Line, findings);
            if (entity.Top) HeaderRules.MessageFields(entity.Fields, findings);

            Field? Single(string name)
            {
                var found = entity.Fields.Where(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).ToList();
                if (found.Count > 1 && !entity.Top) findings.Add("HeaderDuplicate", found[1].Line, $"{name} twice");
                return found.FirstOrDefault();
            }
            var contentType = Single("Content-Type");
            var encoding = Single("Content-Transfer-Encoding");
            if (entity.Top)
            {
                var version = entity.Fields.FirstOrDefault(f => f.Name.Equals("MIME-Version", StringComparison.OrdinalIgnoreCase));
                if (version is null && (contentType is not null || encoding is not null))
                    findings.Add("MimeVersionMissing", (contentType ?? encoding)!.Line, "MIME fields without MIME-Version");
                if (version is not null && HeaderRules.StripComments(version.Value.ToString()).Replace(" ", "").Replace("\t", "") != "1.0")
                    findings.Add("MimeVersionSyntax", version.Line, "MIME-Version is not 1.0");
            }

            var mediaType = "text/plain";
            if (contentType is not null)
            {
                if (HeaderRules.ParseContentType(contentType.Value.ToString(), out var type, out var parameters, out var problem))
                {
                    mediaType = type;
                    if (type.StartsWith("multipart/", StringComparison.Ordinal))
                    {
                        entity.IsMultipart = true;
                        entity.MultipartLine = contentType.Line;
                        if (!parameters.TryGetValue("boundary", out var boundary))
                            findings.Add("MultipartBoundaryMissing", contentType.Line, $"{type} without boundary");
                        else if (!HeaderRules.IsBoundary(boundary))
                            findings.Add("BoundarySyntax", contentType.Line, "boundary is not 1 to 70 bchars");
                        else entity.Boundary = boundary;
                    }
                }
                else findings.Add("ContentTypeSyntax", contentType.Line, problem);
            }
            if (encoding is not null)
            {
                var value = HeaderRules.StripComments(encoding.Value.ToString()).Trim(' ', '\t').ToLowerInvariant();
                if (value is "7bit" or "8bit" or "binary" or "quoted-printable" or "base64" || (value.StartsWith("x-", StringComparison.Ordinal) && HeaderRules.IsToken(value)))
                    entity.Encoding = value;
                else findings.Add("TransferEncodingUnknown", encoding.Line, $"Content-Transfer-Encoding '{Shorten(value)}'");
                if ((entity.IsMultipart || mediaType.StartsWith("message/", StringComparison.Ordinal)) && value is not ("7bit" or "8bit" or "binary"))
                    findings.Add("MultipartEncoding", encoding.Line, $"{mediaType} with {Shorten(value)}");
            }
            // A multipart without a usable boundary is read as one opaque body.
            if (entity.IsMultipart && entity.Boundary is null) entity.IsMultipart = false;
        }

        private void BodyLine(long number, ReadOnlySpan<byte> line, long length)
        {
            var entity = Current;
            if (entity.IsMultipart) return;  // preamble or epilogue: only the line rules apply
            var eightBit = line.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;
            switch (entity.Encoding)
            {
                case "8bit" or "binary":
                    return;
                case "base64":
                    Base64Line(entity, number, line, length);
                    break;
                case "quoted-printable":
                    QuotedPrintableLine(number, line, length);
                    break;
            }
            if (eightBit) findings.Add("EightBitBody", number, $"8-bit octet in a {entity.Encoding} part");
        }

        private void Base64Line(Entity entity, long number, ReadOnlySpan<byte> line, long length)
        {
            if (length > MaxEncodedLineChars) findings.Add("Base64LineLength", number, "base64 line over 76 characters");
            var data = line.TrimEnd(" \t"u8);
            if (data.IsEmpty) return;
            if (entity.Base64Ended)
            {
                findings.Add("Base64Alphabet", number, "data after the '=' padding");
                return;
            }
            var padding = data.Length - data.TrimEnd("="u8).Length;
            var content = data[..^padding];
            if (padding > 2 || content.IndexOfAnyExcept(Base64Alphabet) >= 0)
                findings.Add("Base64Alphabet", number, "not base64");
            else if (padding > 0) entity.Base64Ended = true;
        }

        private void QuotedPrintableLine(long number, ReadOnlySpan<byte> line, long length)
        {
            if (length > MaxEncodedLineChars) findings.Add("QuotedPrintableLineLength", number, "quoted-printable line over 76 characters");
            for (var i = 0; i < line.Length; i++)
            {
                var c = line[i];
                if (c == (byte)'=')
                {
                    if (i == line.Length - 1) break;  // a soft line break
                    if (i + 2 < line.Length && IsHex(line[i + 1]) && IsHex(line[i + 2])) { i += 2; continue; }
                    findings.Add("QuotedPrintableSyntax", number, "'=' not followed by two hex digits");
                    return;
                }
                if (c is (byte)' ' or (byte)'\t')
                {
                    if (i == line.Length - 1) findings.Add("QuotedPrintableSyntax", number, "white space at the end of a line");
                    continue;
                }
                if (c is < 33 or > 126 && c < 0x80)
                {
                    findings.Add("QuotedPrintableSyntax", number, "a control character not encoded");
                    return;
                }
            }
        }

        private static bool IsHex(byte c) => c is >= (byte)'0' and <= (byte)'9' or >= (byte)'A' and <= (byte)'F' or >= (byte)'a' and <= (byte)'f';

        private static readonly SearchValues<byte> Base64Alphabet =
            SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"u8);
    }

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "..." : text;
}
