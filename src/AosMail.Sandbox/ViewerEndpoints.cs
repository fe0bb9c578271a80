using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace AosMail.Sandbox;

/// <summary>
/// The mail viewer: its page (files embedded in this assembly, served under /_sandbox/ui/) and the
/// JSON it reads (/_sandbox/mail, /_sandbox/spool, /_sandbox/changes). It only looks: opening a
/// message does not mark it Read, so a script's openbox sees the same with or without the viewer.
/// </summary>
public static class ViewerEndpoints
{
    public const string UiPath = ControlEndpoints.Prefix + "/ui";
    private const string MailPath = ControlEndpoints.Prefix + "/mail";
    private const string SpoolPath = ControlEndpoints.Prefix + "/spool";
    private const int DefaultListLimit = 200;

    // The page runs its own script and style files only: nothing inline, so even text that
    // slipped into the page as markup could not run.
    private const string PagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    // A message's own HTML and parts: no script at all (the sandbox directive also covers a part
    // opened on its own, outside the viewer's sandboxed frame), nothing fetched but what is named.
    private const string ContentPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; sandbox allow-popups allow-popups-to-escape-sandbox";

    /// <summary>Serves the page's files. Placed before routing, so the AOS fallback route never sees them.</summary>
    public static void UseFiles(WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(ViewerEndpoints).Assembly, "AosMail.Sandbox.Viewer");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = UiPath });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = UiPath,
            OnPrepareResponse = file =>
            {
                var headers = file.Context.Response.Headers;
                headers.ContentSecurityPolicy = PagePolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.CacheControl = "no-cache";
            },
        });
    }

    public static void Map(WebApplication app, SandboxState state)
    {
        app.MapGet(ControlEndpoints.Prefix + "/changes", () => Results.Json(new { mail = state.Mail.Version, requests = state.Recorder.Version }));
        app.MapGet(MailPath, () => Folders(state));
        MapFolder(app.MapGroup(MailPath + "/{user}/{mailbox}"), state, context =>
        {
            var user = state.Users.Find(context.Request.RouteValues["user"] as string ?? "");
            var mailbox = MailStore.CanonicalMailbox(context.Request.RouteValues["mailbox"] as string);
            return user is null || mailbox is null ? null : new MailFolder(user.Address, mailbox);
        });
        MapFolder(app.MapGroup(SpoolPath), state, _ => MailFolder.Spool);
    }

    public static string FolderUrl(MailFolder folder) =>
        folder.User is { } user ? $"{MailPath}/{Uri.EscapeDataString(user)}/{folder.Mailbox}" : SpoolPath;

    private static IResult Folders(SandboxState state) => Results.Json(new
    {
        accounts = state.Users.All.Select(user => new
        {
            address = user.Address,
            fullName = user.FullName,
            mailboxes = MailStore.Mailboxes.Select(name =>
            {
                var messages = state.Mail.List(user.Address, name);
                return new { name, url = FolderUrl(new MailFolder(user.Address, name)), count = messages.Count, unread = messages.Count(m => !m.Read) };
            }),
        }),
        spool = new { name = MailFolder.Spool.Mailbox, url = SpoolPath, count = state.Mail.List(MailFolder.Spool).Count },
    });

    /// <summary>The same routes for a user's mailbox and for the spool; <paramref name="resolve"/>
    /// says which folder a request names (null: none, 404).</summary>
    private static void MapFolder(RouteGroupBuilder group, SandboxState state, Func<HttpContext, MailFolder?> resolve)
    {
        // Opens the message the route names; the file stays open until the response is written.
        ViewerMessage? Open(HttpContext context, string id)
        {
            if (resolve(context) is not { } folder || state.Mail.Find(folder, id) is not { } stored) return null;
            ViewerMessage message;
            try { message = ViewerMessage.Load(folder, stored); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }  // removed meanwhile
            context.Response.RegisterForDispose(message);
            return message;
        }

        group.MapGet("", (HttpContext context, string? q, int? limit) =>
            resolve(context) is { } folder ? List(state, folder, q, limit ?? DefaultListLimit) : Results.NotFound());

        group.MapGet("/{id}", async (HttpContext context, string id) =>
            Open(context, id) is { } message ? await DetailAsync(state, message, context.RequestAborted) : Results.NotFound());

        group.MapGet("/{id}/html", (HttpContext context, string id, bool? remote) =>
        {
            if (Open(context, id) is not { } message) return Results.NotFound();
            var origin = $"{context.Request.Scheme}://{context.Request.Host}";
            // Absolute addresses: a <base href> in the message must not send them elsewhere.
            var html = message.Html(index => $"{origin}{PartUrl(message, index)}?inline=true");
            if (html is null) return Results.NotFound();
            // Images come from this sandbox (inline parts) or data: URLs; remote ones only when asked.
            var remoteSources = remote == true ? " http: https:" : "";
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = $"{ContentPolicy}; img-src {origin} data:{remoteSources}; font-src data:{remoteSources}"
                + (remote == true ? "; style-src 'unsafe-inline' http: https:" : "");
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            return Results.Content(html, "text/html; charset=utf-8");
        });

        group.MapGet("/{id}/parts/{index:int}", (HttpContext context, string id, int index, bool? inline) =>
        {
            if (Open(context, id) is not { } message || index < 0 || index >= message.Parts.Count) return Results.NotFound();
            var part = message.Parts[index];
            var disposition = new ContentDispositionHeaderValue(inline == true ? "inline" : "attachment");
            disposition.SetHttpFileName(ViewerMessage.FileName(part) ?? $"part-{index}");
            var headers = context.Response.Headers;
            headers.ContentDisposition = disposition.ToString();
            headers.ContentSecurityPolicy = ContentPolicy;
            headers.XContentTypeOptions = "nosniff";
            return Results.Stream(output => ViewerMessage.WriteContentAsync(part, output, context.RequestAborted), part.ContentType.MimeType);
        });

        // The stored bytes. Range requests work, so the page can show the head of a huge message.
        group.MapGet("/{id}/raw", (HttpContext context, string id, bool? download) =>
        {
            if (resolve(context) is not { } folder || state.Mail.Find(folder, id) is not { } stored) return Results.NotFound();
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return download == true
                ? Results.File(stored.Path, "message/rfc822", id + ".eml", enableRangeProcessing: true)
                : Results.File(stored.Path, "text/plain; charset=utf-8", enableRangeProcessing: true);
        });
    }

    private static string MessageUrl(ViewerMessage message) => $"{FolderUrl(message.Folder)}/{message.Stored.Id}";

    private static string PartUrl(ViewerMessage message, int index) => $"{MessageUrl(message)}/parts/{index}";

    /// <summary>Newest first; with a query, only the messages that match it. At most
    /// <paramref name="limit"/> are described; <c>total</c> counts them all.</summary>
    private static IResult List(SandboxState state, MailFolder folder, string? query, int limit)
    {
        var stored = state.Mail.List(folder);
        var rows = new List<object>();
        var total = 0;
        for (var i = stored.Count - 1; i >= 0; i--)
        {
            if (string.IsNullOrWhiteSpace(query) && rows.Count >= limit)
            {
                total += i + 1;  // no query: the rest count without being opened
                break;
            }
            ViewerMessage message;
            try { message = ViewerMessage.Load(folder, stored[i]); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { continue; }  // removed meanwhile
            using (message)
            {
                var envelope = folder.IsSpool ? state.Mail.ReadEnvelope(message.Stored.Id) : null;
                if (!string.IsNullOrWhiteSpace(query) && !message.Matches(query.Trim(), envelope)) continue;
                total++;
                if (rows.Count < limit) rows.Add(Summary(message));
            }
        }
        return Results.Json(new { total, messages = rows });
    }

    private static object Summary(ViewerMessage message) => new
    {
        id = message.Stored.Id,
        url = MessageUrl(message),
        from = message.Message.From.ToString(),
        to = message.Message.To.ToString(),
        subject = message.Message.Subject ?? "",
        date = message.Date,
        size = message.Stored.Size,
        attachments = message.Attachments.Count(),
        read = message.Folder.IsSpool ? (bool?)null : message.Stored.Read,
        html = message.Message.HtmlBody is not null,
    };

    /// <summary>The judge's verdict from when sdmailact stored the message; a message that came
    /// another way (a file put in a folder) is judged now.</summary>
    private static object Checks(SandboxState state, ViewerMessage message)
    {
        if (state.Checks.Find(message.Stored.Id) is { } check) return new { judged = check.Action, mark = check.Mark, findings = check.Findings };
        using var stream = File.OpenRead(message.Stored.Path);
        return new { judged = "opened", mark = (string?)null, findings = MessageJudge.Judge(stream) };
    }

    private static async Task<IResult> DetailAsync(SandboxState state, ViewerMessage message, CancellationToken cancellationToken)
    {
        var (folder, id, url) = (message.Folder, message.Stored.Id, MessageUrl(message));
        var attachments = new List<object>();
        foreach (var (index, part) in message.Attachments)
        {
            attachments.Add(new
            {
                index,
                fileName = ViewerMessage.FileName(part),
                contentType = part.ContentType.MimeType,
                contentId = part.ContentId,
                inline = part.ContentId is not null || part.ContentDisposition?.Disposition == MimeKit.ContentDisposition.Inline,
                size = await ViewerMessage.ContentSizeAsync(part, cancellationToken),
                url = PartUrl(message, index),
            });
        }
        var request = state.Recorder.FindByMessageId(id);
        return Results.Json(new
        {
            id,
            url,
            folder = folder.IsSpool ? "Spool" : $"{folder.User} / {folder.Mailbox}",
            from = message.Message.From.ToString(),
            to = message.Message.To.ToString(),
            cc = message.Message.Cc.ToString(),
            subject = message.Message.Subject ?? "",
            date = message.Date,
            size = message.Stored.Size,
            read = folder.IsSpool ? (bool?)null : message.Stored.Read,
            headers = message.Message.Headers.Select(h => new { name = h.Field, value = h.Value }),
            text = message.Text,
            html = message.Message.HtmlBody is null ? null : url + "/html",
            raw = url + "/raw",
            attachments,
            envelope = folder.IsSpool ? state.Mail.ReadEnvelope(id) : null,
            request,
            checks = Checks(state, message),
        });
    }
}
