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

    public static AosAnswer Text(string text, string outcome, int status = 200) =>
        new(status, TextPlain, System.Text.Encoding.UTF8.GetBytes(text), outcome);

    public static AosAnswer Ok() => Text("OK", "OK");

    /// <summary>The one error shape AOS documents: "false", CRLF, a reason line.</summary>
    public static AosAnswer False(string reason, int status = 200) => Text("false\r\n" + reason, "false: " + reason, status);
}
