using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.IO;

namespace AosMail.Sandbox;

/// <summary>
/// A stored message as the viewer shows it, parsed by MimeKit straight from its file. Parsed
/// with <c>persistent</c> content, so an attachment of hundreds of megabytes stays on disk and is
/// only read when it is counted or downloaded; the file is open until Dispose.
/// </summary>
public sealed partial class ViewerMessage : IDisposable
{
    /// <summary>Text shown in the page is cut here; the raw source and downloads have it all.</summary>
    public const int MaxTextChars = 1024 * 1024;

    [GeneratedRegex(@"\bcid:([^""'\s>)]+)", RegexOptions.IgnoreCase)]
    private static partial Regex CidReference();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();

    private readonly FileStream _stream;

    private ViewerMessage(MailFolder folder, StoredMessage stored, FileStream stream, MimeMessage message)
    {
        Folder = folder;
        Stored = stored;
        _stream = stream;
        Message = message;
        // Every leaf of the tree, in order: a part's index here is its address in the viewer's URLs.
        Parts = [.. message.BodyParts];
    }

    public static ViewerMessage Load(MailFolder folder, StoredMessage stored)
    {
        var stream = new FileStream(stored.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            return new ViewerMessage(folder, stored, stream, MimeMessage.Load(stream, persistent: true));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public MailFolder Folder { get; }

    public StoredMessage Stored { get; }

    public MimeMessage Message { get; }

    public IReadOnlyList<MimeEntity> Parts { get; }

    /// <summary>The parts that are not the message's text or HTML body: attachments and inline images.</summary>
    public IEnumerable<(int Index, MimeEntity Part)> Attachments =>
        Parts.Select((part, index) => (index, part)).Where(p => !IsBodyText(p.part));

    public DateTimeOffset Date => Message.Date == DateTimeOffset.MinValue ? Stored.Modified : Message.Date;

    public string? Text => Cut(Message.TextBody);

    /// <summary>The text the search looks in: addresses, subject, body text, attachment names.</summary>
    public bool Matches(string query, Envelope? envelope)
    {
        bool Has(string? text) => text is not null && text.Contains(query, StringComparison.OrdinalIgnoreCase);
        return Has(Message.Subject) || Has(Message.From.ToString()) || Has(Message.To.ToString()) || Has(Message.Cc.ToString())
            || (envelope is not null && envelope.Recipients.Any(Has))
            || Has(Text) || (Message.HtmlBody is { } html && Has(Tag().Replace(html, " ")))
            || Attachments.Any(a => Has(FileName(a.Part)));
    }

    /// <summary>
    /// The HTML body with each <c>cid:</c> reference to a part of this message replaced by that
    /// part's address (<paramref name="partUrl"/>), so inline images show; null when there is no HTML.
    /// </summary>
    public string? Html(Func<int, string> partUrl)
    {
        if (Message.HtmlBody is not { } html) return null;
        var byContentId = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Parts.Count; i++)
        {
            if (Parts[i].ContentId is { Length: > 0 } id) byContentId.TryAdd(id, i);
        }
        return CidReference().Replace(html, match =>
            byContentId.TryGetValue(Uri.UnescapeDataString(match.Groups[1].Value), out var index) ? partUrl(index) : match.Value);
    }

    public static string? FileName(MimeEntity part) =>
        part is MimePart mime ? mime.FileName : part.ContentType.Name ?? (part is MessagePart ? "message.eml" : null);

    /// <summary>The part's content as it was before transfer encoding (what the sender attached).</summary>
    public static async Task WriteContentAsync(MimeEntity part, Stream output, CancellationToken cancellationToken)
    {
        switch (part)
        {
            case MimePart { Content: { } content }: await content.DecodeToAsync(output, cancellationToken); break;
            case MessagePart { Message: { } message }: await message.WriteToAsync(output, cancellationToken); break;
        }
    }

    /// <summary>The decoded size of a part in bytes (counted, not guessed from the encoded size).</summary>
    public static async Task<long> ContentSizeAsync(MimeEntity part, CancellationToken cancellationToken)
    {
        using var measure = new MeasuringStream();
        await WriteContentAsync(part, measure, cancellationToken);
        return measure.Length;
    }

    public void Dispose() => _stream.Dispose();

    private static bool IsBodyText(MimeEntity part) =>
        part is TextPart text && !text.IsAttachment && text.ContentId is null && (text.IsPlain || text.IsHtml);

    private static string? Cut(string? text) => text is { Length: > MaxTextChars } ? text[..MaxTextChars] : text;
}
