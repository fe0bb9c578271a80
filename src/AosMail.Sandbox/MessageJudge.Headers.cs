using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AosMail.Sandbox;

public static partial class MessageJudge
{
    /// <summary>The header rules: a field's value is unfolded (continuation lines joined without
    /// their CRLF) and read as Latin-1, so every octet stays one character.</summary>
    private static partial class HeaderRules
    {
        // Fields whose quotes are quoted strings (RFC 5322 3.4, RFC 2045 5.1); elsewhere a quote is text.
        private static readonly HashSet<string> Structured = new(StringComparer.OrdinalIgnoreCase)
        {
            "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc",
            "Resent-Bcc", "Disposition-Notification-To", "Content-Type", "Content-Disposition",
        };

        // RFC 5322 3.6: exactly once, and at most once.
        private static readonly string[] Required = ["Date", "From"];
        private static readonly string[] AtMostOnce =
        [
            "Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Message-ID", "In-Reply-To", "References", "Subject",
            "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
        ];

        private const string TSpecials = "()<>@,;:\\\"/[]?=";
        private const string BChars = "'()+_,-./:=? ";

        static HeaderRules() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

        [GeneratedRegex(@"^=\?(?<charset>[^?*\s]+)(?:\*[^?\s]*)?\?(?<encoding>[BbQq])\?(?<text>[^?\s]*)\?=$")]
        private static partial Regex EncodedWord();

        [GeneratedRegex(@"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=")]
        private static partial Regex EncodedWordInside();

        [GeneratedRegex(@"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) *, *)?(?<day>\d{1,2}) +(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{4} +(?<hour>\d\d):(?<minute>\d\d)(?::(?<second>\d\d))? +[+-]\d{4}$")]
        private static partial Regex DateTime();

        [GeneratedRegex(@"^<[^<>@\s]+@[^<>@\s]+>$")]
        private static partial Regex MessageId();

        [GeneratedRegex(@"[^\s<>@,;:""()]+@[^\s<>@,;:""()]+")]
        private static partial Regex AddrSpec();

        [GeneratedRegex(@"^[1-5](?:\s.*)?$")]
        private static partial Regex Priority();

        /// <summary>The fields of the message itself (not of a body part), many of which the server writes.</summary>
        public static void MessageFields(List<Field> fields, Findings findings)
        {
            List<Field> Named(string name) => fields.Where(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).ToList();
            foreach (var name in Required)
            {
                if (Named(name).Count == 0) findings.Add("HeaderMissing", 1, $"no {name} field");
            }
            foreach (var name in AtMostOnce)
            {
                if (Named(name) is { Count: > 1 } twice) findings.Add("HeaderDuplicate", twice[1].Line, $"{name} twice");
            }
            foreach (var date in Named("Date"))
            {
                var match = DateTime().Match(Normalize(date.Value.ToString()));
                if (!match.Success || int.Parse(match.Groups["day"].Value, CultureInfo.InvariantCulture) is < 1 or > 31
                    || int.Parse(match.Groups["hour"].Value, CultureInfo.InvariantCulture) > 23
                    || int.Parse(match.Groups["minute"].Value, CultureInfo.InvariantCulture) > 59
                    || (match.Groups["second"].Success && int.Parse(match.Groups["second"].Value, CultureInfo.InvariantCulture) > 60))
                    findings.Add("DateSyntax", date.Line, "not an RFC 5322 date-time");
            }
            foreach (var id in Named("Message-ID"))
            {
                if (!MessageId().IsMatch(Normalize(id.Value.ToString()))) findings.Add("MessageIdSyntax", id.Line, "not <left@right>");
            }
            foreach (var from in Named("From"))
            {
                if (!AddrSpec().IsMatch(from.Value.ToString())) findings.Add("FromSyntax", from.Line, "no local@domain");
            }
            foreach (var priority in Named("X-Priority"))
            {
                if (!Priority().IsMatch(priority.Value.ToString().Trim())) findings.Add("PrioritySyntax", priority.Line, "not 1 to 5");
            }
        }

        /// <summary>Comments removed, runs of white space made one space, trimmed.</summary>
        private static string Normalize(string value) => Regex.Replace(StripComments(value), @"[ \t]+", " ").Trim();

        /// <summary>
        /// Finds the encoded-words of a field (RFC 2047): every word that starts with "=?" and
        /// ends with "?=" must be a valid one, an encoded-word must stand alone between white
        /// space (or, in a structured field, specials), and none may sit inside a quoted string.
        /// </summary>
        public static void EncodedWords(string name, string value, long line, Findings findings)
        {
            var structured = Structured.Contains(name);
            var word = new StringBuilder();
            void Flush()
            {
                if (word.Length > 0) Word(word.ToString(), line, findings);
                word.Clear();
            }
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (structured && c == '"')
                {
                    Flush();
                    if (EncodedWordInside().IsMatch(QuotedString(value, ref i)))
                        findings.Add("EncodedWordInQuotedString", line, $"{name}: an encoded-word inside \"...\"");
                    i--;  // the loop steps past the closing quote
                }
                else if (c is ' ' or '\t' || (structured && c is ',' or ';' or '<' or '>' or '(' or ')'))
                {
                    Flush();
                }
                else word.Append(c);
            }
            Flush();
        }

        private static void Word(string word, long line, Findings findings)
        {
            if (!(word.StartsWith("=?", StringComparison.Ordinal) && word.EndsWith("?=", StringComparison.Ordinal) && word.Length >= 4))
            {
                if (EncodedWordInside().IsMatch(word)) findings.Add("EncodedWordSyntax", line, "an encoded-word not separated by white space");
                return;
            }
            var match = EncodedWord().Match(word);
            if (!match.Success)
            {
                findings.Add("EncodedWordSyntax", line, "not =?charset?B|Q?text?=");
                return;
            }
            if (word.Length > MaxEncodedWordChars) findings.Add("EncodedWordTooLong", line, "encoded-word over 75 characters");
            Encoding encoding;
            try
            {
                encoding = Encoding.GetEncoding(match.Groups["charset"].Value, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
            }
            catch (ArgumentException)
            {
                findings.Add("EncodedWordCharset", line, $"unknown charset '{Shorten(match.Groups["charset"].Value)}'");
                return;
            }
            var text = match.Groups["text"].Value;
            var bytes = match.Groups["encoding"].Value is "B" or "b" ? FromBase64(text) : FromQ(text);
            if (bytes is null)
            {
                findings.Add("EncodedWordSyntax", line, "encoded text is not valid " + match.Groups["encoding"].Value.ToUpperInvariant());
                return;
            }
            try
            {
                encoding.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                findings.Add("EncodedWordText", line, $"not whole {encoding.WebName} characters");
            }
        }

        private static byte[]? FromBase64(string text)
        {
            if (text.Length % 4 != 0) return null;
            var bytes = new byte[text.Length / 4 * 3];
            return Convert.TryFromBase64String(text, bytes, out var written) ? bytes[..written] : null;
        }

        /// <summary>RFC 2047 4.2: "=XX", "_" for a space, and printable ASCII but "=", "?" and "_".</summary>
        private static byte[]? FromQ(string text)
        {
            var bytes = new List<byte>(text.Length);
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c == '=')
                {
                    if (i + 2 >= text.Length || !byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                        return null;
                    bytes.Add(b);
                    i += 2;
                }
                else if (c == '_') bytes.Add((byte)' ');
                else if (c is > ' ' and <= '~' and not '?') bytes.Add((byte)c);
                else return null;
            }
            return [.. bytes];
        }

        /// <summary>
        /// The content of the quoted string that starts at <paramref name="at"/> (RFC 5322 3.2.4:
        /// a backslash quotes the next character); <paramref name="at"/> ends just past the closing
        /// quote, or one past the end of the text when the string is not closed.
        /// </summary>
        private static string QuotedString(string text, ref int at)
        {
            var quoted = new StringBuilder();
            for (at++; at < text.Length && text[at] != '"'; at++)
            {
                if (text[at] == '\\' && at + 1 < text.Length) at++;
                quoted.Append(text[at]);
            }
            at++;
            return quoted.ToString();
        }

        /// <summary>Removes (comments), nested and escaped as RFC 5322 3.2.2 allows, outside quoted strings.</summary>
        public static string StripComments(string value)
        {
            var text = new StringBuilder(value.Length);
            var depth = 0;
            var quoted = false;
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (c == '\\' && (quoted || depth > 0) && i + 1 < value.Length)
                {
                    if (depth == 0) text.Append(c).Append(value[i + 1]);
                    i++;
                    continue;
                }
                if (depth == 0 && c == '"') quoted = !quoted;
                if (!quoted && c == '(') depth++;
                else if (!quoted && c == ')' && depth > 0) depth--;
                else if (depth == 0) text.Append(c);
            }
            return text.ToString();
        }

        public static bool IsToken(string text) => text.Length > 0 && text.All(c => c is > ' ' and <= '~' && !TSpecials.Contains(c));

        public static bool IsBoundary(string text) =>
            text.Length is >= 1 and <= 70 && text[^1] != ' ' && text.All(c => char.IsAsciiLetterOrDigit(c) || BChars.Contains(c));

        /// <summary>RFC 2045 5.1: type "/" subtype *(";" attribute "=" value), value a token or a quoted string.</summary>
        public static bool ParseContentType(string raw, out string type, out Dictionary<string, string> parameters, out string problem)
        {
            parameters = new(StringComparer.OrdinalIgnoreCase);
            type = "";
            problem = "";
            var text = StripComments(raw);
            var at = 0;
            void SkipSpace()
            {
                while (at < text.Length && text[at] is ' ' or '\t') at++;
            }
            string Token()
            {
                var start = at;
                while (at < text.Length && text[at] is > ' ' and <= '~' && !TSpecials.Contains(text[at])) at++;
                return text[start..at];
            }
            SkipSpace();
            var major = Token();
            SkipSpace();
            var slash = at < text.Length && text[at] == '/';
            if (slash) at++;
            SkipSpace();
            var minor = slash ? Token() : "";
            if (major.Length == 0 || minor.Length == 0)
            {
                problem = "not type/subtype";
                return false;
            }
            type = (major + "/" + minor).ToLowerInvariant();
            while (true)
            {
                SkipSpace();
                if (at >= text.Length) return true;
                if (text[at] != ';')
                {
                    problem = $"'{Shorten(text[at..])}' where ';' or the end belongs";
                    return false;
                }
                at++;
                SkipSpace();
                if (at >= text.Length) return true;
                var attribute = Token();
                SkipSpace();
                if (attribute.Length == 0 || at >= text.Length || text[at] != '=')
                {
                    problem = "a parameter that is not attribute=value";
                    return false;
                }
                at++;
                SkipSpace();
                string value;
                if (at < text.Length && text[at] == '"')
                {
                    value = QuotedString(text, ref at);
                    if (at > text.Length)
                    {
                        problem = $"parameter {attribute}: a quoted string that is not closed";
                        return false;
                    }
                }
                else
                {
                    value = Token();
                    if (value.Length == 0)
                    {
                        problem = $"parameter {attribute}: neither a token nor a quoted string";
                        return false;
                    }
                }
                if (!parameters.TryAdd(attribute, value))
                {
                    problem = $"parameter {attribute} twice";
                    return false;
                }
            }
        }
    }
}
