using System.Text;

namespace AosMail.Sandbox;

/// <summary>What each AOS command does once its request is read (protocol parts A and C).</summary>
public static class AosCommands
{
    private const string NeedApi = "api=lc is required (the sandbox serves no HTML pages)";

    public static AosAnswer Run(SandboxState state, AosRequest request, bool needsSid)
    {
        if (!needsSid)
        {
            return request.Command switch
            {
                "login" => Login(state, request),
                "sqVry" => Verify(state, request),
                "sqSpec" => Profile(state, request),
                _ => AosAnswer.False($"unknown command '{request.Command}'"),
            };
        }

        if (request.Sid is null) return AosAnswer.False("this command needs a session id in front: <SID>." + request.Command);
        var session = CheckSession(state, request.Sid, out var user);
        if (session is not null) return session;
        if (!IsApiLc(request)) return AosAnswer.False(NeedApi);
        return request.Command switch
        {
            "sdmailact" => MailAction.Run(state, user!, request),
            "openbox" => OpenBox(state, user!, request),
            "rdmail" => ReadMail(state, user!, request),
            "mboxtable" => MailboxTable(state, user!),
            _ => AosAnswer.False($"unknown command '{request.Command}'"),
        };
    }

    private static bool IsApiLc(AosRequest request) => string.Equals(request.Get("api"), "lc", StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when the session is alive; else the answer that says why not.</summary>
    private static AosAnswer? CheckSession(SandboxState state, string? sid, out Account? user) =>
        state.Sessions.Touch(sid, out user) switch
        {
            SessionState.Alive => null,
            SessionState.Expired => AosAnswer.False("session expired; log in again"),
            _ => AosAnswer.False("unknown session; log in first"),
        };

    private static AosAnswer Login(SandboxState state, AosRequest request)
    {
        if (!IsApiLc(request)) return AosAnswer.False(NeedApi);
        var name = request.GetNonEmpty("name");
        var host = request.GetNonEmpty("host");
        var password = request.Get("pswd") ?? "";
        if (name is null && request.GetNonEmpty("id") is { } id)
        {
            // id = Base64("name|host|password"): an encoding, not a secret.
            string[] parts;
            try { parts = Encoding.UTF8.GetString(Convert.FromBase64String(id)).Split('|', 3); }
            catch (FormatException) { parts = []; }
            if (parts.Length != 3) return AosAnswer.False("login failed: id is not Base64 of name|host|password");
            (name, host, password) = (parts[0], parts[1].Length == 0 ? null : parts[1], parts[2]);
        }
        if (string.IsNullOrEmpty(name)) return AosAnswer.False("login failed: name and pswd (or id) are required");

        // "name" may be the full address when "host" is left out; a bare name is a local user.
        string address;
        var at = name.LastIndexOf('@');
        if (at >= 0) address = host is null || name[(at + 1)..].Equals(host, StringComparison.OrdinalIgnoreCase) ? name : "";
        else address = $"{name}@{host ?? SandboxOptions.LocalDomain}";
        at = address.LastIndexOf('@');
        var user = at > 0 ? state.Users.Authenticate(address[..at], address[(at + 1)..], password) : null;
        if (user is null) return AosAnswer.False("login failed: wrong user name or password");
        return AosAnswer.Text(state.Sessions.Create(user), "OK") with { User = user.Address };
    }

    // sqVry and sqSpec answer true/false or plain values whatever "api" says: their answers are
    // machine-readable anyway, and the documents show them with sid= alone.
    private static AosAnswer Verify(SandboxState state, AosRequest request) =>
        CheckSession(state, request.Get("sid"), out _) ?? AosAnswer.Text("true", "true");

    private static AosAnswer Profile(SandboxState state, AosRequest request)
    {
        if (CheckSession(state, request.Get("sid"), out var user) is { } failed) return failed;
        return AosAnswer.Text(string.Join("\r\n", user!.Name, user.Host, user.FullName, "UTC", "en"), "OK");
    }

    private static AosAnswer OpenBox(SandboxState state, Account user, AosRequest request)
    {
        var mailbox = MailStore.CanonicalMailbox(request.GetNonEmpty("mbox") ?? "Inbox");
        if (mailbox is null) return AosAnswer.False($"unknown mailbox '{request.Get("mbox")}'");
        var top = 0;
        if (request.GetNonEmpty("LCTop") is { } topText && (!int.TryParse(topText, out top) || top < 0))
            return AosAnswer.False($"LCTop must be a whole number, not '{topText}'");

        // Newest first, like a web-mail list; LCTop takes that many from the top (0 or absent: all).
        IEnumerable<StoredMessage> messages = state.Mail.List(user.Address, mailbox).Reverse();
        if (top > 0) messages = messages.Take(top);
        var legacy = state.LegacyOpenbox;
        var lines = messages.Select(m => MessageSummary.Line(m, legacy));
        return AosAnswer.Text(string.Join("\r\n", lines), "OK");
    }

    private static AosAnswer ReadMail(SandboxState state, Account user, AosRequest request)
    {
        var mailbox = MailStore.CanonicalMailbox(request.GetNonEmpty("mbox") ?? "Inbox");
        if (mailbox is null) return AosAnswer.False($"unknown mailbox '{request.Get("mbox")}'");
        var id = request.Get("file");
        if (id is null || !MailStore.IdPattern().IsMatch(id)) return AosAnswer.False("file must be a message id from openbox");
        // Streamed from the file as it is written: a message of any size, never held in memory.
        var content = state.Mail.OpenRead(user.Address, mailbox, id);
        if (content is null) return AosAnswer.False($"no message '{id}' in {mailbox}");
        state.Mail.MarkRead(user.Address, mailbox, id);
        return new AosAnswer(200, "message/rfc822", [], "OK") { BodyStream = content };
    }

    private static AosAnswer MailboxTable(SandboxState state, Account user)
    {
        var lines = MailStore.Mailboxes.Select(name =>
        {
            var messages = state.Mail.List(user.Address, name);
            return $"{name}\t{messages.Count}\t{messages.Count(m => !m.Read)}";
        });
        return AosAnswer.Text(string.Join("\r\n", lines), "OK");
    }
}
