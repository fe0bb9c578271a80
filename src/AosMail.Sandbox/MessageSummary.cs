using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;

namespace AosMail.Sandbox;

/// <summary>One openbox line: id, subject, from, size, Unix time, excerpt, content type, to,
/// New/Read -- TAB-separated, so no field may hold a TAB or a line break.</summary>
public static partial class MessageSummary
{
    private const int ExcerptChars = 100;

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();

    // A stored file never changes (an overwritten draft is a new file, renamed over the old): its
    // summary is parsed once, so that listing a large mailbox again and again costs no MIME parsing.
    private static readonly ConcurrentDictionary<(string Path, long Size, DateTimeOffset Modified), string[]> Parsed = new();
    private const int MaxParsed = 100_000;

    public static string Line(StoredMessage stored, bool legacy)
    {
        var key = (stored.Path, stored.Size, stored.Modified);
        if (!Parsed.TryGetValue(key, out var fields))
        {
            fields = Parse(stored);
            if (Parsed.Count >= MaxParsed) Parsed.Clear();
            Parsed[key] = fields;
        }

        // id, subject, from, size, time, excerpt; then content type, to and the read state.
        var line = string.Join('\t', fields, 0, 6);
        return legacy ? line : line + '\t' + fields[6] + '\t' + fields[7] + '\t' + (stored.Read ? "Read" : "New");
    }

    private static string[] Parse(StoredMessage stored)
    {
        MimeMessage message;
        using (var stream = File.OpenRead(stored.Path)) message = MimeMessage.Load(stream);

        var text = message.TextBody ?? (message.HtmlBody is { } html ? Tag().Replace(html, "") : "");
        // Twice the excerpt before folding line breaks, so a huge body is not copied whole.
        text = OneLine(text.Length > 2 * ExcerptChars ? text[..(2 * ExcerptChars)] : text);
        var excerpt = text.Length > ExcerptChars ? text[..ExcerptChars] : text;
        return
        [
            stored.Id,
            RawHeader(message, HeaderId.Subject),
            RawHeader(message, HeaderId.From),
            stored.Size.ToString(System.Globalization.CultureInfo.InvariantCulture),
            stored.Modified.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            excerpt,
            message.Body?.ContentType.MimeType.ToLowerInvariant() ?? "text/plain",
            RawHeader(message, HeaderId.To),
        ];
    }

    /// <summary>The header's value as stored (still RFC 2047-encoded), unfolded.</summary>
    private static string RawHeader(MimeMessage message, HeaderId id)
    {
        var index = message.Headers.IndexOf(id);
        if (index < 0) return "";
        var raw = Encoding.UTF8.GetString(message.Headers[index].RawValue);
        return OneLine(raw.Replace("\r\n", "").Replace("\n", "")).Trim();
    }

    // A line break (CRLF or LF) becomes one space, whatever line ends the parser hands back.
    private static string OneLine(string text) =>
        text.Replace("\r\n", "\n").Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ');
}
