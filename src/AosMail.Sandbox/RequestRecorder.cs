using System.Text.RegularExpressions;

namespace AosMail.Sandbox;

public sealed record RecordedField(string Name, string Value, int Length);

/// <summary>One AOS request as a test sees it. Secrets are masked when the record is made, so
/// nothing secret is ever kept, let alone served.</summary>
public sealed class RecordedRequest
{
    public long Seq { get; init; }
    public DateTimeOffset Time { get; init; }
    public string Method { get; init; } = "";
    public string Path { get; init; } = "";
    public string? Command { get; init; }
    public bool HasSid { get; init; }
    public string? ContentType { get; init; }
    public long? ContentLength { get; init; }
    /// <summary>Kestrel's id of the TCP connection the request came on (connection reuse shows here).</summary>
    public string? ConnectionId { get; init; }
    public IReadOnlyList<RecordedField> Fields { get; set; } = [];
    public int Status { get; set; }
    public string Outcome { get; set; } = "pending";
    /// <summary>The fault action applied to this request, if any.</summary>
    public string? Fault { get; set; }
    public double DurationMs { get; set; }
}

public sealed partial class RequestRecorder
{
    public const int MaxValueChars = 65536;
    public const string Masked = "<masked>";

    [GeneratedRegex("SID[A-Za-z0-9]{4,}")]
    private static partial Regex SidToken();

    private readonly List<RecordedRequest> _requests = [];
    private readonly Lock _lock = new();
    private long _seq;

    public RecordedRequest Start(string method, string path, string? command, bool hasSid, string? contentType, long? contentLength, DateTimeOffset time,
        string? connectionId = null)
    {
        var record = new RecordedRequest
        {
            Seq = Interlocked.Increment(ref _seq),
            Time = time,
            Method = method,
            Path = MaskSid(path),
            Command = command,
            HasSid = hasSid,
            ContentType = contentType,
            ContentLength = contentLength,
            ConnectionId = connectionId,
        };
        lock (_lock) _requests.Add(record);
        return record;
    }

    /// <summary>Masks what must never be kept: passwords (pswd, and the login's id, which is
    /// only Base64), session ids (the sid field, and any SID token anywhere).</summary>
    /// <remarks>A spooled value's entry holds its head only; its length comes from <paramref name="spooled"/>.</remarks>
    public static IReadOnlyList<RecordedField> MaskFields(IReadOnlyList<KeyValuePair<string, string>> fields, string? command,
        IReadOnlyDictionary<int, SpooledValue>? spooled = null)
    {
        var masked = new RecordedField[fields.Count];
        var isLogin = string.Equals(command, "login", StringComparison.Ordinal);
        for (var i = 0; i < fields.Count; i++)
        {
            var (name, value) = (fields[i].Key, fields[i].Value);
            var secret = name.Equals("pswd", StringComparison.OrdinalIgnoreCase)
                || name.Equals("sid", StringComparison.OrdinalIgnoreCase)
                || (isLogin && name.Equals("id", StringComparison.OrdinalIgnoreCase));
            string shown;
            if (secret)
            {
                shown = Masked;
            }
            else
            {
                // Mask before cutting, so a cut never leaves half a SID that escapes the pattern.
                shown = MaskSid(value);
                if (shown.Length > MaxValueChars) shown = shown[..MaxValueChars];
            }
            var length = spooled is not null && spooled.TryGetValue(i, out var file) ? (int)Math.Min(file.CharLength, int.MaxValue) : value.Length;
            masked[i] = new RecordedField(MaskSid(name), shown, length);
        }
        return masked;
    }

    public static string MaskSid(string text) => SidToken().Replace(text, "<SID>");

    public IReadOnlyList<RecordedRequest> List(string? command)
    {
        lock (_lock)
        {
            return [.. _requests.Where(r => command is null || string.Equals(r.Command, command, StringComparison.OrdinalIgnoreCase))];
        }
    }

    public void Clear()
    {
        lock (_lock) _requests.Clear();
    }
}
