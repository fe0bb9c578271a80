namespace AosMail.Sandbox;

/// <summary>What one AOS request asks for: the command from its path and its fields in wire
/// order (duplicates kept). Field names compare case-insensitively, as AOS documents them.</summary>
public sealed class AosRequest(string command, string? sid, IReadOnlyList<KeyValuePair<string, string>> fields,
    IReadOnlyDictionary<int, SpooledValue>? spooled = null)
{
    /// <summary>The command key: login, sqVry, sqSpec, sdmailact, openbox, rdmail, mboxtable,
    /// or the raw command name of a command the sandbox does not know.</summary>
    public string Command { get; } = command;

    /// <summary>The session id in front of the command, if the path had one.</summary>
    public string? Sid { get; } = sid;

    public IReadOnlyList<KeyValuePair<string, string>> Fields { get; } = fields;

    /// <summary>
    /// The first occurrence of a field when its value was spooled to a file (its entry in
    /// <see cref="Fields"/> then holds only the head); null when absent or held as a string.
    /// </summary>
    public SpooledValue? GetSpooled(string name)
    {
        for (var i = 0; i < Fields.Count; i++)
        {
            if (Fields[i].Key.Equals(name, StringComparison.OrdinalIgnoreCase))
                return spooled is not null && spooled.TryGetValue(i, out var value) ? value : null;
        }
        return null;
    }

    /// <summary>The first value of a field, or null when the field is absent.</summary>
    public string? Get(string name)
    {
        foreach (var field in Fields)
        {
            if (field.Key.Equals(name, StringComparison.OrdinalIgnoreCase)) return field.Value;
        }
        return null;
    }

    /// <summary>The first value, or null when the field is absent or empty (AOS treats an empty
    /// optional field as not given).</summary>
    public string? GetNonEmpty(string name) => Get(name) is { Length: > 0 } value ? value : null;

    public IEnumerable<string> GetAll(string name) =>
        Fields.Where(f => f.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value);

    public bool IsChecked(string name) => string.Equals(Get(name), "checked", StringComparison.OrdinalIgnoreCase);
}

/// <summary>An answer, built before anything is written so a fault can still drop it.</summary>
public sealed record AosAnswer(int Status, string ContentType, byte[] Body, string Outcome, string? Location = null)
{
    public const string TextPlain = "text/plain; charset=utf-8";

    /// <summary>The account a login logged in (for the request log).</summary>
    public string? User { get; init; }

    /// <summary>The id of the message an sdmailact stored, so the viewer can show the request that made it.</summary>
    public string? MessageId { get; init; }

    /// <summary>A body too large to hold (a stored message, a padded fault answer), read as it is written; it replaces <see cref="Body"/>.</summary>
    public Stream? BodyStream { get; init; }

    /// <summary>The body to write: <see cref="BodyStream"/> when there is one. The caller disposes it.</summary>
    public Stream OpenBody() => BodyStream ?? new MemoryStream(Body, writable: false);

    /// <summary>The text, then spaces up to <paramref name="size"/> bytes, made as it is written.</summary>
    public static AosAnswer Padded(string text, long size, string outcome)
    {
        var head = System.Text.Encoding.UTF8.GetBytes(text);
        return size <= head.Length
            ? new(200, TextPlain, head, outcome)
            : new(200, TextPlain, [], outcome) { BodyStream = new PaddedStream(head, size) };
    }

    public static AosAnswer Text(string text, string outcome, int status = 200) =>
        new(status, TextPlain, System.Text.Encoding.UTF8.GetBytes(text), outcome);

    public static AosAnswer Ok() => Text("OK", "OK");

    /// <summary>The one error shape AOS documents: "false", CRLF, a reason line.</summary>
    public static AosAnswer False(string reason, int status = 200) => Text("false\r\n" + reason, "false: " + reason, status);
}

/// <summary>A known start, then spaces up to a length: a huge answer without holding it.</summary>
public sealed class PaddedStream(byte[] head, long length) : Stream
{
    private long _position;

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = (int)Math.Min(count, length - _position);
        for (var i = 0; i < n; i++)
        {
            var at = _position + i;
            buffer[offset + i] = at < head.Length ? head[at] : (byte)' ';
        }
        _position += n;
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
