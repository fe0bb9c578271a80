namespace AosMail.Sandbox;

public sealed record MarkRequest(string? Reason);

/// <summary>The judge's verdicts under /_sandbox/checks (control API: loopback callers only).</summary>
public static class CheckEndpoints
{
    public const string Path = ControlEndpoints.Prefix + "/checks";

    public static void Map(WebApplication app, SandboxState state)
    {
        var checks = app.MapGroup(Path);
        checks.MapGet("", (bool? errors) => Results.Json(Summary(state.Checks.List(), errors == true)));
        checks.MapGet("/rules", () => Results.Json(MessageJudge.Rules));
        checks.MapGet("/{id}", (string id) => state.Checks.Find(id) is { } check ? Results.Json(Describe(check)) : Results.NotFound());
        checks.MapPost("/{id}/mark", (string id, MarkRequest body) =>
        {
            if (string.IsNullOrWhiteSpace(body.Reason)) return Results.Json(new { error = "reason is required" }, statusCode: StatusCodes.Status400BadRequest);
            return state.Checks.SetMark(id, body.Reason.Trim()) ? Results.NoContent() : Results.NotFound();
        });
    }

    /// <summary>The tally over the messages no test marked, then every verdict (or only those with an error).</summary>
    private static object Summary(IReadOnlyList<MessageCheck> all, bool onlyErrors)
    {
        var unmarked = all.Where(c => c.Mark is null).ToList();
        return new
        {
            judged = all.Count,
            marked = all.Count - unmarked.Count,
            errors = unmarked.Sum(c => c.Errors),
            warnings = unmarked.Sum(c => c.Warnings),
            messagesWithErrors = unmarked.Count(c => c.Errors > 0),
            messages = all.Where(c => !onlyErrors || c.Errors > 0).Select(Describe),
        };
    }

    public static object Describe(MessageCheck check) => new
    {
        seq = check.Seq,
        id = check.Id,
        time = check.Time,
        user = check.User,
        action = check.Action,
        subject = check.Subject,
        mark = check.Mark,
        errors = check.Errors,
        warnings = check.Warnings,
        findings = check.Findings,
    };
}
