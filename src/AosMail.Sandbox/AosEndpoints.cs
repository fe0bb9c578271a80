using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace AosMail.Sandbox;

/// <summary>
/// The HTTP side of every AOS command: finds the command in the path, reads the fields in wire
/// order, records the request, applies a queued fault, runs the command, writes the answer.
/// </summary>
public static class AosEndpoints
{
    private const string CgiPrefix = "/cgi-bin/vo";

    private sealed record Route(string Key, bool NeedsSid);

    // "<command>.<object>" as AOS spells it, to the key faults and the recording use.
    private static readonly Dictionary<string, Route> Routes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["st.login"] = new("login", false),
        ["sqVry.user"] = new("sqVry", false),
        ["sqSpec.user"] = new("sqSpec", false),
        ["sdmailact.mail"] = new("sdmailact", true),
        ["openbox.mbox"] = new("openbox", true),
        ["rdmail.mbox"] = new("rdmail", true),
        ["mboxtable.mbox"] = new("mboxtable", true),
    };

    public static async Task HandleAsync(HttpContext context, SandboxState state)
    {
        var started = Stopwatch.GetTimestamp();
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var (route, rawCommand, sid) = ParsePath(path);
        var command = route?.Key ?? rawCommand;
        var record = state.Recorder.Start(request.Method, path, command, sid is not null,
            request.ContentType, request.ContentLength, state.Clock.GetUtcNow(), context.Connection.Id);
        // sdmailact's body may be a message of hundreds of megabytes: it is spooled to a file.
        var form = new StreamingFormReader(state.Mail.IncomingPath,
            name => route?.Key == "sdmailact" && name.Equals("body", StringComparison.OrdinalIgnoreCase));
        AosAnswer? answer = null;
        try
        {
            // A fault is taken as the request arrives: a stall acts before the body is read.
            var fault = state.Faults.Take(command);
            record.Fault = fault?.ActionName;
            if (state.ReadBytesPerSecond > 0 || fault?.Action == FaultAction.Stall) LimitReceiveBuffer(context);
            var latency = state.NextLatencyMs();
            await Task.Delay(latency / 2, context.RequestAborted);
            if (fault?.Action == FaultAction.Stall) await Task.Delay(fault.DelayMs, context.RequestAborted);

            var (fields, readError) = await ReadFieldsAsync(context, state, form);
            record.Fields = RequestRecorder.MaskFields(fields, command, form.Spooled);

            answer = readError;
            if (readError is not null) fault = null;
            var aosRequest = new AosRequest(command ?? "", sid, fields, form.Spooled);
            record.User = state.Sessions.Owner(sid ?? aosRequest.Get("sid"))?.Address;
            switch (fault?.Action)
            {
                case FaultAction.DropBefore:
                    Drop(context, record, "fault:dropBefore");
                    return;
                case FaultAction.Status:
                    answer = AosAnswer.Text(fault.Text, "fault:status", fault.Status);
                    break;
                case FaultAction.Text:
                    answer = AosAnswer.Padded(fault.Text, fault.Size, "fault:text");
                    break;
                case FaultAction.Redirect:
                    answer = new AosAnswer(302, AosAnswer.TextPlain, [], "fault:redirect", fault.Location);
                    break;
                case FaultAction.Delay:
                    await Task.Delay(fault.DelayMs, context.RequestAborted);
                    break;
                case FaultAction.Expire:
                    state.Sessions.Expire(sid ?? aosRequest.Get("sid"));
                    break;
            }

            answer ??= route is null
                ? AosAnswer.False(rawCommand is null ? "unknown command: the path is not <command>.<object>.mms" : $"unknown command '{rawCommand}'")
                : AosCommands.Run(state, aosRequest, route.NeedsSid);
            record.User ??= answer.User;
            record.MessageId = answer.MessageId;

            if (fault?.Action == FaultAction.StatusAfter)
            {
                // The command has acted (mail stored, delivered); the client hears an error status.
                answer = AosAnswer.Text(fault.Text, "fault:statusAfter", fault.Status);
            }

            if (fault?.Action == FaultAction.DropAfter)
            {
                // The command has acted (mail stored, delivered); the client never hears of it.
                Drop(context, record, "fault:dropAfter");
                return;
            }

            await Task.Delay(latency - latency / 2, context.RequestAborted);
            if (!await WriteAsync(context, answer, fault, written => { record.Status = written.Status; record.Outcome = written.Outcome; }))
            {
                Drop(context, record, "fault:dropMidAnswer");
                return;
            }
        }
        catch (Exception e) when (e is BodyCutException || (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested))
        {
            record.Status = 0;
            record.Outcome = "dropped";
            context.Abort();
        }
        catch (Exception e)
        {
            // A sandbox bug: say so loudly rather than look like a server answer.
            Console.Error.WriteLine($"sandbox error on {RequestRecorder.MaskSid(path)}: {e}");
            record.Status = 500;
            record.Outcome = "false: internal error";
            if (!context.Response.HasStarted)
            {
                await WriteAsync(context, AosAnswer.False("internal sandbox error: " + e.GetType().Name, 500), null);
            }
        }
        finally
        {
            answer?.BodyStream?.Dispose();
            form.Cleanup();
            state.Recorder.Finish(record, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>
    /// Slow reading on loopback: the kernel would otherwise take megabytes of the body on the
    /// server's behalf (an autotuned receive buffer), so that the client finished writing long
    /// before the server read it. A small buffer makes the client's writes move at the rate the
    /// server reads, as a slow link does. It stays for the rest of the connection.
    /// </summary>
    private static void LimitReceiveBuffer(HttpContext context)
    {
        if (context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket) socket.ReceiveBufferSize = SlowReceiveBufferBytes;
    }

    private const int SlowReceiveBufferBytes = 64 * 1024;

    private static void Drop(HttpContext context, RecordedRequest record, string outcome)
    {
        record.Status = 0;  // nothing was answered
        record.Outcome = outcome;
        context.Abort();
    }

    /// <summary>
    /// Splits <c>[/cgi-bin/vo]/[SID.]command.object.mms</c>. Returns a null route for a command
    /// the sandbox does not know (rawCommand is then its name, or null when the path is not an
    /// AOS command at all).
    /// </summary>
    private static (Route? Route, string? RawCommand, string? Sid) ParsePath(string path)
    {
        if (path.StartsWith(CgiPrefix + "/", StringComparison.OrdinalIgnoreCase)) path = path[CgiPrefix.Length..];
        if (path.Length < 2 || path[0] != '/' || path.IndexOf('/', 1) >= 0) return (null, null, null);
        var parts = path[1..].Split('.');
        if (parts.Length is < 3 or > 4 || !parts[^1].Equals("mms", StringComparison.OrdinalIgnoreCase)) return (null, null, null);
        var sid = parts.Length == 4 ? parts[0] : null;
        var command = parts[^3];
        var key = command + "." + parts[^2];
        return (Routes.GetValueOrDefault(key), command, sid);
    }

    /// <summary>
    /// Query fields, then body fields, each in wire order with duplicates. Read with FormReader
    /// (query) and StreamingFormReader (body, FormReader's rules, large values spooled) rather
    /// than Request.Form, which is a dictionary (order lost) and caps values at 4 MB.
    /// A body the sandbox cannot read becomes the answer instead of an exception.
    /// </summary>
    private static async Task<(List<KeyValuePair<string, string>> Fields, AosAnswer? Error)> ReadFieldsAsync(HttpContext context, SandboxState state,
        StreamingFormReader form)
    {
        var fields = form.Fields;
        var request = context.Request;
        try
        {
            var query = request.QueryString.Value;
            if (!string.IsNullOrEmpty(query))
            {
                using var queryReader = NewReader(new MemoryStream(Encoding.UTF8.GetBytes(query[1..])));
                await ReadAllAsync(queryReader, fields, context.RequestAborted);
            }

            var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
            if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = state.MaxRequestBytes;

            if (request.ContentLength is 0 || (request.ContentLength is null && !request.Headers.ContainsKey(HeaderNames.TransferEncoding)))
                return (fields, null);
            if (request.ContentType is { } contentType
                && (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
                    || !mediaType.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)))
            {
                return (fields, AosAnswer.False("the body must be application/x-www-form-urlencoded"));
            }
            var rate = state.ReadBytesPerSecond;
            await form.ReadAsync(rate > 0 ? new ThrottledReadStream(request.Body, rate) : request.Body, context.RequestAborted);
            return (fields, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (fields, AosAnswer.False($"request body too large (the limit is {state.MaxRequestBytes} bytes)", 413));
        }
        catch (InvalidDataException e)
        {
            return (fields, AosAnswer.False("malformed form body: " + e.Message));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client stopped sending or went away before the body's end. Kestrel reports that
            // as "Unexpected end of request content" or a reset, often before RequestAborted is
            // set, so it is classified here, where the body is read, and never by a race.
            throw new BodyCutException(e);
        }
    }

    /// <summary>A request body that ended early: the request is "dropped", nothing acted on.</summary>
    private sealed class BodyCutException(Exception inner) : Exception("the request body ended before it was complete", inner);

    private static FormReader NewReader(Stream stream) => new(stream, Encoding.UTF8)
    {
        ValueLengthLimit = int.MaxValue,
        KeyLengthLimit = 2048,
        ValueCountLimit = 10_000,
    };

    private static async Task ReadAllAsync(FormReader reader, List<KeyValuePair<string, string>> fields, CancellationToken cancellationToken)
    {
        while (await reader.ReadNextPairAsync(cancellationToken) is { } pair) fields.Add(pair);
    }

    /// <summary>
    /// Writes the answer in pieces (a stored message is streamed from its file). A trickle fault
    /// writes one byte every delayMs; dropMidAnswer writes the first half and returns false (the
    /// caller then drops the connection).
    /// </summary>
    /// <param name="answered">
    /// Called right before the answer's last bytes go out (never for an answer cut short): a
    /// client that has read them may ask for the request's record at once and must not find it
    /// pending, while a slow answer (trickle) reads as pending until its end.
    /// </param>
    private static async Task<bool> WriteAsync(HttpContext context, AosAnswer answer, Fault? fault, Action<AosAnswer>? answered = null)
    {
        var response = context.Response;
        var aborted = context.RequestAborted;
        response.StatusCode = answer.Status;
        response.ContentType = answer.ContentType;
        if (answer.Location is not null) response.Headers.Location = answer.Location;
        using var body = answer.OpenBody();
        var length = body.Length;
        response.ContentLength = length;
        var trickle = fault?.Action == FaultAction.Trickle;
        var stopAt = fault?.Action == FaultAction.DropMidAnswer ? length / 2 : length;
        var buffer = new byte[trickle ? 1 : 64 * 1024];
        // A trickle starts at once (status and headers), so that the client sees an answer that does not end.
        if (trickle)
        {
            await response.StartAsync(aborted);
            await response.Body.FlushAsync(aborted);
        }
        long sent = 0;
        if (length == 0) answered?.Invoke(answer);
        while (sent < stopAt)
        {
            var read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, stopAt - sent)), aborted);
            if (read == 0) break;
            if (trickle) await Task.Delay(fault!.DelayMs, aborted);
            if (stopAt == length && sent + read == length) answered?.Invoke(answer);
            await response.Body.WriteAsync(buffer.AsMemory(0, read), aborted);
            if (trickle) await response.Body.FlushAsync(aborted);
            sent += read;
        }
        if (stopAt == length) return true;
        await response.Body.FlushAsync(aborted);
        return false;
    }
}
