namespace AosMail.Sandbox;

/// <summary>How a queued fault makes the sandbox misbehave.</summary>
public enum FaultAction { Delay, Status, Text, Expire, DropBefore, DropAfter, Redirect, Stall, Trickle, DropMidAnswer, StatusAfter }

/// <param name="Size">For <c>text</c>: pad the text with spaces to this many bytes (0: the text as it is).</param>
public sealed record Fault(string Command, FaultAction Action, int DelayMs, int Status, string Text, string? Location, long Size = 0)
{
    public string ActionName => ActionNames[(int)Action];

    /// <summary>The wire names, in enum order (camelCase, as the control API takes them).</summary>
    public static readonly string[] ActionNames = ["delay", "status", "text", "expire", "dropBefore", "dropAfter", "redirect", "stall", "trickle", "dropMidAnswer", "statusAfter"];

    public static FaultAction? ParseAction(string? name)
    {
        var index = Array.FindIndex(ActionNames, n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
        return index < 0 ? null : (FaultAction)index;
    }
}

/// <summary>Faults queued for chosen commands; each one fires for the next N requests of its
/// command, in the order the faults were queued.</summary>
public sealed class FaultPlan
{
    private sealed class Entry(Fault fault, int times)
    {
        public Fault Fault { get; } = fault;
        public int Remaining = times;
    }

    private readonly List<Entry> _entries = [];
    private readonly Lock _lock = new();

    public void Add(Fault fault, int times)
    {
        lock (_lock) _entries.Add(new Entry(fault, times));
    }

    /// <summary>The faults still queued, in order, each with the uses it has left.</summary>
    public IReadOnlyList<(Fault Fault, int Remaining)> List()
    {
        lock (_lock) return [.. _entries.Select(e => (e.Fault, e.Remaining))];
    }

    /// <summary>Takes one use of the first fault queued for this command, if any.</summary>
    public Fault? Take(string? command)
    {
        if (command is null) return null;
        lock (_lock)
        {
            var entry = _entries.FirstOrDefault(e => e.Fault.Command.Equals(command, StringComparison.OrdinalIgnoreCase));
            if (entry is null) return null;
            if (--entry.Remaining <= 0) _entries.Remove(entry);
            return entry.Fault;
        }
    }

    public void Clear()
    {
        lock (_lock) _entries.Clear();
    }
}
