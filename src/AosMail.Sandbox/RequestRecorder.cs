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
    /// <summary>The account the request acted for, once its login or session was accepted.</summary>
    public string? User { get; set; }
    /// <summary>The id of the message an sdmailact stored (spool, mailboxes or Draft).</summary>
    public string? MessageId { get; set; }
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
    private long _version;

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
        Interlocked.Increment(ref _version);
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

    public RecordedRequest? Find(long seq)
    {
        lock (_lock) return _requests.FirstOrDefault(r => r.Seq == seq);
    }

    /// <summary>The request that stored this message id last (a draft overwritten by mid keeps its id).</summary>
    public RecordedRequest? FindByMessageId(string id)
    {
        lock (_lock) return _requests.LastOrDefault(r => r.MessageId == id);
    }

    /// <summary>The request is answered (or dropped): its record is complete.</summary>
    public void Finish(RecordedRequest record, double durationMs)
    {
        record.DurationMs = durationMs;
        Interlocked.Increment(ref _version);
    }

    /// <summary>Changes whenever a request starts or finishes or the log is cleared, so the viewer
    /// polls this number rather than the whole log.</summary>
    public long Version => Interlocked.Read(ref _version);

    public void Clear()
    {
        lock (_lock) _requests.Clear();
        Interlocked.Increment(ref _version);
    }
}
