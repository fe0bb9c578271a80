using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using MimeKit;
using MimeKit.Utils;
using static System.FormattableString;

namespace AosMail.Engine
{
    /// <summary>One openbox line (docs/aos-protocol.md B17), its values decoded: what a mailbox listing shows of a message.</summary>
    public sealed class AosListedMessage
    {
        internal AosListedMessage(string id, string subject, string from, long size, DateTime date, string excerpt,
            string? contentType, string? to, bool? isRead)
        {
            Id = id;
            Subject = subject;
            From = from;
            Size = size;
            Date = date;
            Excerpt = excerpt;
            ContentType = contentType;
            To = to;
            IsRead = isRead;
        }

        /// <summary>The server's message id (the rdmail "file", and a draft's "mid").</summary>
        public string Id { get; }

        /// <summary>The subject, RFC 2047 encoded-words decoded.</summary>
        public string Subject { get; }
        public string From { get; }
        public long Size { get; }

        /// <summary>UTC (B17: Unix seconds read as UTC).</summary>
        public DateTime Date { get; }
        public string Excerpt { get; }

        /// <summary>Null from a server that sends only the first six fields.</summary>
        public string? ContentType { get; }
        public string? To { get; }

        /// <summary>True for "Read", false for "New", null when the server did not say.</summary>
        public bool? IsRead { get; }
    }

    /// <summary>A line of an openbox answer that could not be read, and why.</summary>
    public sealed class AosListingProblem
    {
        internal AosListingProblem(int lineNumber, string reason)
        {
            LineNumber = lineNumber;
            Reason = reason;
        }

        /// <summary>1-based line number in the server's answer.</summary>
        public int LineNumber { get; }
        public string Reason { get; }
    }

    /// <summary>A parsed openbox answer: the messages it lists, in the server's order, and the lines it could not read.</summary>
    public sealed class AosListing
    {
        internal AosListing(IReadOnlyList<AosListedMessage> messages, IReadOnlyList<AosListingProblem> problems)
        {
            Messages = messages;
            Problems = problems;
        }

        public IReadOnlyList<AosListedMessage> Messages { get; }
        public IReadOnlyList<AosListingProblem> Problems { get; }

        /// <summary>How far the server's clock (its HTTP Date header) was ahead of this machine's when the listing arrived; null without a Date header.</summary>
        public TimeSpan? ServerClockOffset { get; internal set; }
    }

    /// <summary>One mboxtable line (B19): the name, and the counts when the server gives them.</summary>
    public sealed class AosMailboxEntry
    {
        internal AosMailboxEntry(string name, int? messageCount, int? unreadCount)
        {
            Name = name;
            MessageCount = messageCount;
            UnreadCount = unreadCount;
        }

        public string Name { get; }
        public int? MessageCount { get; }
        public int? UnreadCount { get; }
    }

    /// <summary>
    /// Parsers of the read answers (B17, B19), plain text in, plain objects out, so that they are
    /// unit-tested with canned lines.
    /// </summary>
    internal static class AosListingParser
    {
        private static readonly ParserOptions HeaderOptions = new ParserOptions { CharsetEncoding = Encoding.UTF8 };

        /// <summary>
        /// B17: lines split on LF (a CR before it dropped), blank lines skipped, at least six TAB
        /// fields per line; an empty answer is an empty mailbox. A line that cannot be read (too
        /// few fields, an id that is no B12 token, a size or time that is no number) is not
        /// guessed at: it becomes a problem with its line number, and the other lines still count.
        /// A full line whose excerpt held TABs (more than nine fields, ending in New/Read) keeps
        /// them in the excerpt.
        /// </summary>
        public static AosListing ParseListing(string text)
        {
            var messages = new List<AosListedMessage>();
            var problems = new List<AosListingProblem>();
            var lines = (text ?? "").Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].TrimEnd('\r');
                if (line.Trim().Length == 0)
                {
                    continue;
                }

                var message = ParseLine(line, out var reason);
                if (message == null)
                {
                    problems.Add(new AosListingProblem(i + 1, reason!));
                }
                else
                {
                    messages.Add(message);
                }
            }

            return new AosListing(messages, problems);
        }

        internal static AosListedMessage? ParseLine(string line, out string? reason)
        {
            reason = null;
            var fields = line.Split('\t');
            if (fields.Length < AosProtocol.ListingLegacyFields)
            {
                reason = Invariant($"it has {fields.Length} TAB-separated field(s), at least {AosProtocol.ListingLegacyFields} are needed");
                return null;
            }

            var id = fields[0].Trim();
            if (!AosProtocol.MessageId.IsMatch(id))
            {
                reason = $"its id '{Shorten(id)}' is not 1 to 64 of A-Z a-z 0-9 . _ -";
                return null;
            }

            if (!long.TryParse(fields[3].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long size))
            {
                reason = $"its size '{Shorten(fields[3])}' is not a number of bytes";
                return null;
            }

            if (!long.TryParse(fields[4].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds)
                || seconds < -62135596800L || seconds > 253402300799L)
            {
                reason = $"its time '{Shorten(fields[4])}' is not Unix seconds";
                return null;
            }

            // Extra TABs can only have come from the excerpt: keep the last three fields in place.
            int excerptEnd = 6;
            if (fields.Length > AosProtocol.ListingFullFields && IsStatus(fields[fields.Length - 1]))
            {
                excerptEnd = fields.Length - 3;
            }

            var excerpt = string.Join("\t", fields, 5, excerptEnd - 5);
            string? contentType = Optional(fields, excerptEnd);
            string? to = Optional(fields, excerptEnd + 1);
            string? status = Optional(fields, excerptEnd + 2);
            bool? isRead = status == null ? (bool?)null
                : string.Equals(status, AosProtocol.ListingStatusRead, StringComparison.OrdinalIgnoreCase) ? true
                : string.Equals(status, AosProtocol.ListingStatusNew, StringComparison.OrdinalIgnoreCase) ? false
                : (bool?)null;

            return new AosListedMessage(id, DecodeText(fields[1]), DecodeAddresses(fields[2]), size,
                DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime, excerpt,
                contentType, to == null ? null : DecodeAddresses(to), isRead);
        }

        /// <summary>B19: one mailbox a line, its name in the first TAB field; counts after it are kept when they are numbers.</summary>
        public static IReadOnlyList<AosMailboxEntry> ParseMailboxTable(string text)
        {
            var result = new List<AosMailboxEntry>();
            foreach (var raw in (text ?? "").Split('\n'))
            {
                var fields = raw.TrimEnd('\r').Split('\t');
                var name = fields[0].Trim();
                if (name.Length == 0)
                {
                    continue;
                }

                result.Add(new AosMailboxEntry(name, Count(fields, 1), Count(fields, 2)));
            }

            return result;
        }

        /// <summary>A raw header value (B21: already UTF-8 text) with RFC 2047 encoded-words decoded.</summary>
        internal static string DecodeText(string raw)
        {
            var value = raw.Trim();
            return value.IndexOf("=?", StringComparison.Ordinal) < 0 ? value : Rfc2047.DecodeText(HeaderOptions, Encoding.UTF8.GetBytes(value));
        }

        /// <summary>An address list for display: display names decoded, as MimeKit writes it unencoded; else the decoded text.</summary>
        internal static string DecodeAddresses(string raw)
        {
            var value = raw.Trim();
            if (value.Length > 0 && InternetAddressList.TryParse(HeaderOptions, value, out var list) && list.Count > 0)
            {
                return list.ToString();
            }

            return DecodeText(value);
        }

        private static bool IsStatus(string field) =>
            string.Equals(field.Trim(), AosProtocol.ListingStatusRead, StringComparison.OrdinalIgnoreCase)
            || string.Equals(field.Trim(), AosProtocol.ListingStatusNew, StringComparison.OrdinalIgnoreCase);

        private static string? Optional(string[] fields, int index) => index < fields.Length ? fields[index].Trim() : null;

        private static int? Count(string[] fields, int index) =>
            index < fields.Length && int.TryParse(fields[index].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : (int?)null;

        private static string Shorten(string value) => value.Length <= 40 ? value : value.Substring(0, 39) + "\u2026";
    }
}
