namespace AosMail.Sandbox;

/// <summary>The judge's verdict on one stored message. <see cref="Mark"/> is set by a test that
/// posted a deliberately bad message through the control API, so the run's tally leaves it out.</summary>
public sealed record MessageCheck(long Seq, string Id, DateTimeOffset Time, string User, string Action, string Subject,
    IReadOnlyList<CheckFinding> Findings)
{
    public string? Mark { get; set; }

    public int Errors => Findings.Count(f => f.Severity == MessageJudge.Error);

    public int Warnings => Findings.Count(f => f.Severity == MessageJudge.Warning);
}

/// <summary>
/// Every message sdmailact stored, with the judge's findings, since the sandbox started. A reset
/// does not clear it: a test run resets the sandbox between suites and reads the tally of the
/// whole run at its end (build/Invoke-PesterRun.ps1). A restart starts it afresh.
/// </summary>
public sealed class CheckLog
{
    // A subject is kept only to tell a person which message it was.
    private const int SubjectChars = 120;

    private readonly List<MessageCheck> _checks = [];
    private readonly Lock _lock = new();
    private long _seq;

    public MessageCheck Add(string id, DateTimeOffset time, string user, string action, string? subject, IReadOnlyList<CheckFinding> findings)
    {
        subject ??= "";
        if (subject.Length > SubjectChars) subject = subject[..SubjectChars];
        lock (_lock)
        {
            var check = new MessageCheck(++_seq, id, time, user, action, subject, findings);
            _checks.Add(check);
            return check;
        }
    }

    /// <summary>The latest verdict on a message id (an overwritten draft keeps its id), or null.</summary>
    public MessageCheck? Find(string id)
    {
        lock (_lock) return _checks.LastOrDefault(c => c.Id == id);
    }

    public IReadOnlyList<MessageCheck> List()
    {
        lock (_lock) return [.. _checks];
    }

    /// <summary>Marks the latest verdict on a message as deliberately bad; false when there is none.</summary>
    public bool SetMark(string id, string reason)
    {
        lock (_lock)
        {
            if (_checks.LastOrDefault(c => c.Id == id) is not { } check) return false;
            check.Mark = reason;
            return true;
        }
    }
}
