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

    public static string Line(StoredMessage stored, bool legacy)
    {
        MimeMessage message;
        using (var stream = File.OpenRead(stored.Path)) message = MimeMessage.Load(stream);

        var text = message.TextBody ?? (message.HtmlBody is { } html ? Tag().Replace(html, "") : "");
        // Twice the excerpt before folding line breaks, so a huge body is not copied whole.
        text = OneLine(text.Length > 2 * ExcerptChars ? text[..(2 * ExcerptChars)] : text);
        var excerpt = text.Length > ExcerptChars ? text[..ExcerptChars] : text;
        var fields = new List<string>
        {
            stored.Id,
            RawHeader(message, HeaderId.Subject),
            RawHeader(message, HeaderId.From),
            stored.Size.ToString(System.Globalization.CultureInfo.InvariantCulture),
            stored.Modified.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            excerpt,
        };
        if (!legacy)
        {
            fields.Add(message.Body?.ContentType.MimeType.ToLowerInvariant() ?? "text/plain");
            fields.Add(RawHeader(message, HeaderId.To));
            fields.Add(stored.Read ? "Read" : "New");
        }
        return string.Join('\t', fields);
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
