using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.Utils;

namespace AosMail.Sandbox;

/// <summary>sdmailact: check the fields, write the RFC 5322 message an AOS server would, then
/// send it (spool, local Inboxes, optional Outbox copy) or keep it as a draft.</summary>
public static partial class MailAction
{
    // The server writes these itself; taking them from mheader would give a message two of
    // them, and a Bcc header would show blind recipients to everyone.
    private static readonly HashSet<string> ServerHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID",
    };

    [GeneratedRegex("^[!-9;-~]+:")]
    private static partial Regex HeaderStart();

    public static AosAnswer Run(SandboxState state, Account user, AosRequest request)
    {
        var send = request.IsChecked("snd");
        var draft = request.IsChecked("svdrf");
        if (send && draft) return AosAnswer.False("snd and svdrf cannot both be checked");
        if (!send && !draft) return AosAnswer.False("nothing to do: neither snd nor svdrf is checked");

        var mid = request.GetNonEmpty("mid");
        if (mid is not null && !MailStore.IdPattern().IsMatch(mid)) return AosAnswer.False("mid is not a message id");

        var recipients = new List<string>();
        var lists = new Dictionary<string, string?>();
        foreach (var field in new[] { "mto", "mcc", "mbcc" })
        {
            var value = request.GetNonEmpty(field);
            lists[field] = value;
            if (value is null) continue;
            if (value.AsSpan().IndexOfAny('\r', '\n') >= 0) return AosAnswer.False($"{field} must be one line");
            if (!TryParseAddresses(value, out var addresses)) return AosAnswer.False($"{field} is not a valid address list");
            recipients.AddRange(addresses);
        }
        if (send && recipients.Count == 0) return AosAnswer.False("a message to send needs at least one recipient");

        var subject = request.Get("msub");
        if (subject is not null && subject.AsSpan().IndexOfAny('\r', '\n') >= 0) return AosAnswer.False("msub must be one line");

        var priorityText = request.GetNonEmpty("mprio");
        var priority = 0;
        if (priorityText is not null && (!int.TryParse(priorityText, NumberStyles.None, CultureInfo.InvariantCulture, out priority) || priority is < 1 or > 5))
            return AosAnswer.False("mprio must be 1 to 5");

        var extraHeaders = new List<string>();
        foreach (var mheader in request.GetAll("mheader"))
        {
            foreach (var line in mheader.Split('\n'))
            {
                var text = line.TrimEnd('\r');
                if (text.Length == 0) continue;
                var isContinuation = text[0] is ' ' or '\t';
                if (isContinuation ? extraHeaders.Count == 0 : !HeaderStart().IsMatch(text))
                    return AosAnswer.False("mheader holds a line that is not a header: " + Shorten(text));
                if (!isContinuation && ServerHeaders.Contains(text[..text.IndexOf(':')].Trim()))
                    return AosAnswer.False($"mheader may not set {text[..text.IndexOf(':')]}: the server writes it");
                extraHeaders.Add(text);
            }
        }

        var id = state.Mail.NewId();
        // A large body arrives spooled to a file (StreamingFormReader): the message is then
        // composed into a file too, and copied from there; small ones stay in memory as before.
        using var content = Compose(state, user, id, lists["mto"], lists["mcc"], subject, priority, extraHeaders,
            request.GetSpooled("body"), request.Get("body") ?? "");
        // Judged before it is stored, outside the user's lock: a large message takes a while to read.
        IReadOnlyList<CheckFinding> findings;
        using (var stored = content.OpenRead()) findings = MessageJudge.Judge(stored);

        // Only a mid needs the user's lock: it is checked, then overwritten or removed.
        lock (mid is null ? new object() : state.Mail.LockFor(user.Address))
        {
            if (mid is not null && !state.Mail.Exists(user.Address, "Draft", mid))
                return AosAnswer.False($"no draft '{mid}' in Draft");
            if (draft)
            {
                state.Mail.Store(user.Address, "Draft", mid ?? id, content);
                state.Checks.Add(mid ?? id, state.Clock.GetUtcNow(), user.Address, "draft", subject, findings);
                return AosAnswer.Ok() with { MessageId = mid ?? id };
            }

            var distinct = recipients.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            state.Mail.Spool(id, content, new Envelope(user.Address, distinct, state.Clock.GetUtcNow()));
            foreach (var recipient in distinct)
            {
                if (state.Users.Find(recipient) is { } local) state.Mail.Store(local.Address, "Inbox", id, content);
            }
            if (request.IsChecked("keepcopy") || state.AlwaysKeepCopy) state.Mail.Store(user.Address, "Outbox", id, content);
            if (mid is not null) state.Mail.Delete(user.Address, "Draft", mid);
            state.Checks.Add(id, state.Clock.GetUtcNow(), user.Address, "send", subject, findings);
            return AosAnswer.Ok() with { MessageId = id };
        }
    }

    private static bool TryParseAddresses(string value, out List<string> addresses)
    {
        addresses = [];
        if (!InternetAddressList.TryParse(value, out var list)) return false;
        foreach (var mailbox in list.Mailboxes)
        {
            var at = mailbox.Address.LastIndexOf('@');
            if (at < 1 || at == mailbox.Address.Length - 1) return false;
            addresses.Add(mailbox.Address);
        }
        return addresses.Count > 0;
    }

    /// <summary>
    /// The stored message, byte for byte: the server's headers, then the client's mheader lines
    /// as given, an empty line, then the body as given. Values are not re-encoded: msub and the
    /// address lists arrive ready for the wire (docs/aos-protocol.md B6, B7).
    /// </summary>
    private static MessageContent Compose(SandboxState state, Account user, string id, string? to, string? cc, string? subject,
        int priority, List<string> extraHeaders, SpooledValue? spooledBody, string body)
    {
        var text = new StringBuilder();
        text.Append("From: ").Append(user.Address).Append("\r\n");
        if (to is not null) AppendAddressField(text, "To", to);
        if (cc is not null) AppendAddressField(text, "Cc", cc);
        if (subject is not null) text.Append("Subject: ").Append(subject).Append("\r\n");
        text.Append("Date: ").Append(DateUtils.FormatDate(state.Clock.GetUtcNow())).Append("\r\n");
        text.Append("Message-ID: <").Append(id).Append('.').Append(RandomNumberGenerator.GetHexString(12, lowercase: true))
            .Append('@').Append(SandboxOptions.LocalDomain).Append(">\r\n");
        if (priority > 0) text.Append("X-Priority: ").Append(priority.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (var line in extraHeaders) text.Append(line).Append("\r\n");
        text.Append("\r\n");
        if (spooledBody is null)
        {
            text.Append(body);
            return MessageContent.FromBytes(Encoding.UTF8.GetBytes(text.ToString()));
        }

        return MessageContent.FromFile(state.Mail.IncomingPath, Encoding.UTF8.GetBytes(text.ToString()), spooledBody.Path);
    }

    /// <summary>
    /// An address list as given; when the line would pass 78 octets, folded after its commas
    /// (RFC 5322 3.2.2), one ", " between addresses: a form field is one line of any length, a
    /// header line is not.
    /// </summary>
    private static void AppendAddressField(StringBuilder text, string name, string list)
    {
        if (name.Length + 2 + Encoding.UTF8.GetByteCount(list) <= FoldAt)
        {
            text.Append(name).Append(": ").Append(list).Append("\r\n");
            return;
        }
        var lineStart = text.Length;
        text.Append(name).Append(": ");
        var first = true;
        foreach (var address in SplitAddresses(list))
        {
            if (!first)
            {
                text.Append(',');
                if (text.Length - lineStart + 1 + Encoding.UTF8.GetByteCount(address) > FoldAt)
                {
                    text.Append("\r\n");
                    lineStart = text.Length;
                }
                text.Append(' ');
            }
            text.Append(address);
            first = false;
        }
        text.Append("\r\n");
    }

    private const int FoldAt = 78;

    /// <summary>The addresses of a list: split at commas outside quoted strings, comments and angle brackets.</summary>
    private static IEnumerable<string> SplitAddresses(string list)
    {
        var start = 0;
        var (quoted, comment, angle) = (false, 0, false);
        for (var i = 0; i < list.Length; i++)
        {
            var c = list[i];
            if (c == '\\' && (quoted || comment > 0)) i++;
            else if (c == '"' && comment == 0) quoted = !quoted;
            else if (quoted) continue;
            else if (c == '(') comment++;
            else if (c == ')' && comment > 0) comment--;
            else if (comment > 0) continue;
            else if (c == '<') angle = true;
            else if (c == '>') angle = false;
            else if (c == ',' && !angle)
            {
                if (list[start..i].Trim() is { Length: > 0 } address) yield return address;
                start = i + 1;
            }
        }
        if (list[start..].Trim() is { Length: > 0 } last) yield return last;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "...";
}
