using System.Net;

namespace AosMail.Sandbox;

public sealed record FaultRequest(string? Command, string? Action, int? DelayMs, int? Status, string? Text, string? Location, int? Times, long? Size);

public sealed record OptionsRequest(int? IdleSeconds, bool? LegacyOpenbox, long? MaxRequestBytes, int? LatencyMs, long? ReadBytesPerSecond,
    int? SlowPercent = null, int? SlowMs = null, int? JitterMs = null, bool? AlwaysKeepCopy = null);

public sealed record UserRequest(string? Name, string? Host, string? Password, string? FullName);

/// <summary>The test-only control API under /_sandbox/: JSON in and out, loopback callers only.</summary>
public static class ControlEndpoints
{
    public const string Prefix = "/_sandbox";

    /// <summary>Refuses requests that do not come from this machine's own user: goes first in the
    /// pipeline, before the control API, the viewer and the AOS endpoints alike (the AOS side
    /// logs in with the published demo passwords, reads and sends every account's mail).</summary>
    public static void UseGuard(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (!IsLocal(context.Request, context.Connection, aos: !context.Request.Path.StartsWithSegments(Prefix)))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }
            await next(context);
        });
    }

    /// <summary>
    /// The sandbox listens on 127.0.0.1 only; the address check guards the day someone changes
    /// that. A browser on this machine brings two more risks now that the viewer is a web page:
    /// a web site whose name resolves to 127.0.0.1 (DNS rebinding: its Host header is its own
    /// name), and a web site posting to the control API from the user's browser (its Origin is
    /// another site). Scripts and tests send no Origin and a loopback Host. The viewer's own page
    /// reads with GET (no Origin needed); an AOS command acts on GET too, so there any Origin
    /// must be this machine.
    /// </summary>
    private static bool IsLocal(HttpRequest request, ConnectionInfo connection, bool aos)
    {
        if (connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote)) return false;
        if (!IsLoopbackName(request.Host.Host)) return false;
        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0 || (!aos && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
            || (Uri.TryCreate(origin, UriKind.Absolute, out var uri) && IsLoopbackName(uri.Host));
    }

    private static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    public static void Map(WebApplication app, SandboxState state)
    {
        var control = app.MapGroup(Prefix);
        control.MapGet("/info", () => Info(state));

        control.MapPost("/reset", (bool? demoMail) =>
        {
            state.Reset(demoMail);
            return Results.NoContent();
        });

        control.MapGet("/requests", (string? command, int? last) =>
        {
            var requests = state.Recorder.List(command);
            return Results.Json(last is >= 0 && last < requests.Count ? requests.Skip(requests.Count - last.Value) : requests);
        });
        control.MapGet("/requests/{seq:long}", (long seq) => state.Recorder.Find(seq) is { } request ? Results.Json(request) : Results.NotFound());
        control.MapDelete("/requests", () =>
        {
            state.Recorder.Clear();
            return Results.NoContent();
        });

        control.MapPost("/faults", (FaultRequest body) =>
        {
            if (string.IsNullOrWhiteSpace(body.Command)) return Problem("command is required (e.g. sdmailact)");
            if (Fault.ParseAction(body.Action) is not { } action)
                return Problem($"action must be one of {string.Join(", ", Fault.ActionNames)}");
            if (body.Times is < 1) return Problem("times must be 1 or more");
            if (body.DelayMs is < 0) return Problem("delayMs must not be negative");
            if (action == FaultAction.Redirect && string.IsNullOrEmpty(body.Location)) return Problem("redirect needs location");
            if (body.Status is < 100 or > 599) return Problem("status must be an HTTP status code");
            if (body.Size is < 0) return Problem("size must not be negative");
            var fault = new Fault(body.Command.Trim(), action, body.DelayMs ?? 0, body.Status ?? 500, body.Text ?? "", body.Location, body.Size ?? 0);
            state.Faults.Add(fault, body.Times ?? 1);
            return Results.NoContent();
        });
        control.MapGet("/faults", () => Results.Json(state.Faults.List().Select(f => new
        {
            command = f.Fault.Command,
            action = f.Fault.ActionName,
            delayMs = f.Fault.DelayMs,
            status = f.Fault.Status,
            text = f.Fault.Text,
            location = f.Fault.Location,
            remaining = f.Remaining,
        })));
        control.MapDelete("/faults", () =>
        {
            state.Faults.Clear();
            return Results.NoContent();
        });

        control.MapGet("/options", () => Options(state));
        control.MapPost("/options", (OptionsRequest body) =>
        {
            if (body.IdleSeconds is < 1) return Problem("idleSeconds must be 1 or more");
            if (body.MaxRequestBytes is < 1) return Problem("maxRequestBytes must be 1 or more");
            if (body.LatencyMs is < 0) return Problem("latencyMs must not be negative");
            if (body.ReadBytesPerSecond is < 0) return Problem("readBytesPerSecond must not be negative");
            if (body.SlowPercent is < 0 or > 100) return Problem("slowPercent must be from 0 to 100");
            if (body.SlowMs is < 0 || body.JitterMs is < 0) return Problem("slowMs and jitterMs must not be negative");
            if (body.IdleSeconds is { } idle) state.Sessions.Idle = TimeSpan.FromSeconds(idle);
            if (body.LegacyOpenbox is { } legacy) state.LegacyOpenbox = legacy;
            if (body.AlwaysKeepCopy is { } keep) state.AlwaysKeepCopy = keep;
            if (body.MaxRequestBytes is { } max) state.MaxRequestBytes = max;
            if (body.LatencyMs is { } latency) state.LatencyMs = latency;
            if (body.ReadBytesPerSecond is { } rate) state.ReadBytesPerSecond = rate;
            if (body.SlowPercent is not null || body.SlowMs is not null || body.JitterMs is not null)
            {
                var uneven = state.Uneven;
                state.SetUnevenLatency(body.SlowPercent ?? uneven.SlowPercent, body.SlowMs ?? uneven.SlowMs, body.JitterMs ?? uneven.JitterMs);
            }

            return Options(state);
        });

        control.MapPost("/users", (UserRequest body) =>
        {
            if (string.IsNullOrWhiteSpace(body.Name) || string.IsNullOrWhiteSpace(body.Host) || string.IsNullOrEmpty(body.Password))
                return Problem("name, host and password are required");
            if (body.Name.Contains('@') || body.Host.Contains('@')) return Problem("name and host are the parts before and after '@'");
            state.Users.Add(new Account(body.Name, body.Host, body.Password, body.FullName ?? body.Name));
            return Results.NoContent();
        });
    }

    private static IResult Info(SandboxState state) => Results.Json(new
    {
        baseUri = state.BaseUri,
        httpsBaseUri = state.HttpsBaseUri,
        viewerUri = state.ViewerUri,
        dataPath = state.Options.DataPath,
        demoUser = SandboxOptions.DemoUser,
        idleSeconds = (int)state.Sessions.Idle.TotalSeconds,
        legacyOpenbox = state.LegacyOpenbox,
        maxRequestBytes = state.MaxRequestBytes,
        latencyMs = state.LatencyMs,
        readBytesPerSecond = state.ReadBytesPerSecond,
        slowPercent = state.Uneven.SlowPercent,
        slowMs = state.Uneven.SlowMs,
        jitterMs = state.Uneven.JitterMs,
    });

    private static IResult Options(SandboxState state) => Results.Json(new
    {
        idleSeconds = (int)state.Sessions.Idle.TotalSeconds,
        legacyOpenbox = state.LegacyOpenbox,
        maxRequestBytes = state.MaxRequestBytes,
        latencyMs = state.LatencyMs,
        readBytesPerSecond = state.ReadBytesPerSecond,
        slowPercent = state.Uneven.SlowPercent,
        slowMs = state.Uneven.SlowMs,
        jitterMs = state.Uneven.JitterMs,
        alwaysKeepCopy = state.AlwaysKeepCopy,
    });

    private static IResult Problem(string message) => Results.Json(new { error = message }, statusCode: StatusCodes.Status400BadRequest);
}
