using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace AosMail.Engine
{
    /// <summary>
    /// One line of the send journal: a flat JSON object whose values are strings. Written and read
    /// here because netstandard2.0 has no JSON library that Windows PowerShell 5.1 can load without
    /// shipping more dependencies, and a flat object of strings is all the journal needs.
    /// </summary>
    internal static class AosJournalJson
    {
        /// <summary>Writes the pairs in order as one JSON object (no line break); null values are left out.</summary>
        public static string Write(IEnumerable<KeyValuePair<string, string?>> pairs)
        {
            var text = new StringBuilder("{");
            foreach (var pair in pairs)
            {
                if (pair.Value == null) continue;
                if (text.Length > 1) text.Append(',');
                AppendString(text, pair.Key);
                text.Append(':');
                AppendString(text, pair.Value);
            }

            return text.Append('}').ToString();
        }

        /// <summary>
        /// Reads one JSON object. String values come back as they are, numbers, true, false and null as
        /// their text (null as a null value); nested objects and arrays are not part of the format.
        /// Throws <see cref="FormatException"/> on anything else.
        /// </summary>
        public static Dictionary<string, string?> Read(string line)
        {
            var values = new Dictionary<string, string?>(StringComparer.Ordinal);
            int i = 0;
            SkipSpace(line, ref i);
            Expect(line, ref i, '{');
            SkipSpace(line, ref i);
            if (Peek(line, i) == '}')
            {
                i++;
            }
            else
            {
                while (true)
                {
                    SkipSpace(line, ref i);
                    string name = ReadString(line, ref i);
                    SkipSpace(line, ref i);
                    Expect(line, ref i, ':');
                    SkipSpace(line, ref i);
                    values[name] = Peek(line, i) == '"' ? ReadString(line, ref i) : ReadLiteral(line, ref i);
                    SkipSpace(line, ref i);
                    if (Peek(line, i) == ',')
                    {
                        i++;
                        continue;
                    }

                    Expect(line, ref i, '}');
                    break;
                }
            }

            SkipSpace(line, ref i);
            if (i != line.Length) throw new FormatException("Text after the end of the object at offset " + i + ".");
            return values;
        }

        private static void AppendString(StringBuilder text, string value)
        {
            text.Append('"');
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                switch (c)
                {
                    case '"': text.Append("\\\""); break;
                    case '\\': text.Append("\\\\"); break;
                    case '\n': text.Append("\\n"); break;
                    case '\r': text.Append("\\r"); break;
                    case '\t': text.Append("\\t"); break;
                    default:
                        // A surrogate without its partner has no UTF-8 form (it would be written as
                        // U+FFFD and never match again), so it is escaped like a control character.
                        if (c < ' ' || c == '\u2028' || c == '\u2029' || (char.IsSurrogate(c) && !IsPairAt(value, i)))
                        {
                            text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            text.Append(c);
                        }

                        break;
                }
            }

            text.Append('"');
        }

        /// <summary>Whether the surrogate at <paramref name="i"/> is half of a well-formed pair.</summary>
        private static bool IsPairAt(string value, int i) =>
            char.IsHighSurrogate(value[i])
                ? i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                : i > 0 && char.IsHighSurrogate(value[i - 1]);

        private static string ReadString(string line, ref int i)
        {
            Expect(line, ref i, '"');
            var text = new StringBuilder();
            while (true)
            {
                if (i >= line.Length) throw new FormatException("Unterminated string.");
                char c = line[i++];
                if (c == '"') return text.ToString();
                if (c < ' ') throw new FormatException("Control character in a string at offset " + (i - 1) + ".");
                if (c != '\\')
                {
                    text.Append(c);
                    continue;
                }

                if (i >= line.Length) throw new FormatException("Unterminated escape.");
                char escape = line[i++];
                switch (escape)
                {
                    case '"': text.Append('"'); break;
                    case '\\': text.Append('\\'); break;
                    case '/': text.Append('/'); break;
                    case 'b': text.Append('\b'); break;
                    case 'f': text.Append('\f'); break;
                    case 'n': text.Append('\n'); break;
                    case 'r': text.Append('\r'); break;
                    case 't': text.Append('\t'); break;
                    case 'u':
                        if (i + 4 > line.Length
                            || !int.TryParse(line.Substring(i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                        {
                            throw new FormatException("Bad \\u escape at offset " + i + ".");
                        }

                        text.Append((char)code);
                        i += 4;
                        break;
                    default:
                        throw new FormatException("Bad escape '\\" + escape + "' at offset " + (i - 1) + ".");
                }
            }
        }

        /// <summary>A number, true, false or null, as its text (null for null).</summary>
        private static string? ReadLiteral(string line, ref int i)
        {
            int start = i;
            while (i < line.Length && (char.IsLetterOrDigit(line[i]) || line[i] == '-' || line[i] == '+' || line[i] == '.'))
            {
                i++;
            }

            string literal = line.Substring(start, i - start);
            if (literal == "null") return null;
            if (literal == "true" || literal == "false") return literal;
            if (double.TryParse(literal, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return literal;
            throw new FormatException("Expected a value at offset " + start + ".");
        }

        private static char Peek(string line, int i) => i < line.Length ? line[i] : '\0';

        private static void Expect(string line, ref int i, char expected)
        {
            if (Peek(line, i) != expected) throw new FormatException("Expected '" + expected + "' at offset " + i + ".");
            i++;
        }

        private static void SkipSpace(string line, ref int i)
        {
            while (i < line.Length && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
            {
                i++;
            }
        }
    }
}
