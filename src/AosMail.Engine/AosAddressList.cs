using System.Collections.Generic;
using System.Linq;
using MimeKit;

namespace AosMail.Engine
{
    /// <summary>
    /// B6: one -To, -Cc, -Bcc or -ReplyTo entry as the people who type it write it: an RFC 5322
    /// address list ("a@x, b@y", quoted display names), or a list separated by ';' as Outlook
    /// writes it. MimeKit parses the addresses; this class only finds the ';' that separate
    /// addresses, and explains the one mistake a migrating script makes most: a display name
    /// with a comma and no quotes.
    /// </summary>
    internal static class AosAddressList
    {
        /// <summary>The addresses of <paramref name="entry"/>, or AosInvalidAddress naming it.</summary>
        public static InternetAddressList Parse(ParserOptions options, string entry, string kind)
        {
            if (InternetAddressList.TryParse(options, entry, out var list) && list.Count > 0)
            {
                return list;
            }

            var pieces = SplitAtSemicolons(entry);
            if (pieces.Count == 1)
            {
                return ParsePiece(options, entry, entry, kind);
            }

            var all = new InternetAddressList();
            foreach (var piece in pieces.Where(p => !string.IsNullOrWhiteSpace(p)))
            {
                all.AddRange(ParsePiece(options, piece, entry, kind));
            }

            return all.Count > 0 ? all : throw NotAnAddress(entry, kind);
        }

        private static InternetAddressList ParsePiece(ParserOptions options, string piece, string entry, string kind)
        {
            if (InternetAddressList.TryParse(options, piece, out var list) && list.Count > 0)
            {
                return list;
            }

            // Read the way a person meant it, only to say how to write it.
            var lenient = options.Clone();
            lenient.AllowUnquotedCommasInAddresses = true;
            if (InternetAddressList.TryParse(lenient, piece, out var meant))
            {
                var named = meant.Mailboxes.FirstOrDefault(m => m.Name != null && m.Name.IndexOf(',') >= 0);
                if (named != null)
                {
                    throw new AosException(AosErrorIds.InvalidAddress, AosErrorCategory.InvalidArgument,
                        $"The {kind} entry '{entry}' has a display name with a comma that is not in quotes, so it reads as two addresses: "
                        + $"put the name in double quotes, as in '{new MailboxAddress(named.Name, named.Address)}'.", entry);
                }
            }

            throw NotAnAddress(entry, kind);
        }

        private static AosException NotAnAddress(string entry, string kind) =>
            new AosException(AosErrorIds.InvalidAddress, AosErrorCategory.InvalidArgument,
                $"The {kind} entry '{entry}' is not a valid e-mail address or address list (separate addresses with ',' or ';').", entry);

        /// <summary>The entry cut at each ';' outside a quoted string, a comment and angle brackets.</summary>
        private static List<string> SplitAtSemicolons(string entry)
        {
            var pieces = new List<string>();
            bool quoted = false;
            int comment = 0;
            bool angle = false;
            int start = 0;
            for (int i = 0; i < entry.Length; i++)
            {
                char c = entry[i];
                if (c == '\\' && (quoted || comment > 0))
                {
                    i++;
                }
                else if (quoted)
                {
                    quoted = c != '"';
                }
                else if (c == '"' && comment == 0)
                {
                    quoted = true;
                }
                else if (c == '(')
                {
                    comment++;
                }
                else if (c == ')' && comment > 0)
                {
                    comment--;
                }
                else if (comment == 0 && (c == '<' || c == '>'))
                {
                    angle = c == '<';
                }
                else if (c == ';' && comment == 0 && !angle)
                {
                    pieces.Add(entry.Substring(start, i - start));
                    start = i + 1;
                }
            }

            pieces.Add(entry.Substring(start));
            return pieces;
        }
    }
}
