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

    public RecordedRequest Start(string method, string path, string? command, bool hasSid, string? contentType, long? contentLength, DateTimeOffset time)
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
        };
        lock (_lock) _requests.Add(record);
        return record;
    }

    /// <summary>Masks what must never be kept: passwords (pswd, and the login's id, which is
    /// only Base64), session ids (the sid field, and any SID token anywhere).</summary>
    public static IReadOnlyList<RecordedField> MaskFields(IReadOnlyList<KeyValuePair<string, string>> fields, string? command)
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
            masked[i] = new RecordedField(MaskSid(name), shown, value.Length);
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
