using System.Text;
using MimeKit;

namespace AosMail.Sandbox;

/// <summary>
/// The demo account's Inbox at start (and after a reset): a few varied messages, so that reading
/// (Get-AosMessage, Save-AosMessage, the help's examples) shows something on a fresh sandbox.
/// <c>--no-demo-mail</c> starts with empty mailboxes, as the test suites do to count exactly.
/// </summary>
public static class DemoMail
{
    /// <summary>The subjects, oldest first, as Get-AosMessage lists them.</summary>
    public static IReadOnlyList<string> Subjects { get; } =
    [
        "Welcome to the AOS sandbox",
        "Quarterly report",
        "Grüße aus München",
        "Team lunch on Friday",
    ];

    /// <summary>Stores the messages into the demo account's Inbox, unless it already holds mail (a kept --data folder).</summary>
    public static void Seed(MailStore mail, TimeProvider clock)
    {
        var user = SandboxOptions.DemoUser;
        if (mail.List(user, "Inbox").Count > 0) return;

        var now = clock.GetLocalNow();
        var demo = new MailboxAddress("Demo User", user);
        var alice = new MailboxAddress("Alice Example", "alice@sandbox.test");
        var bob = new MailboxAddress("Bob Example", "bob@sandbox.test");

        Store(mail, Message(alice, demo, Subjects[0], now.AddHours(-3), new TextPart("plain")
        {
            Text = "Hello,\r\n\r\nthis Inbox holds a few messages so that Get-AosMessage shows something.\r\n"
                + "Mail you send to demo@sandbox.test arrives here too.\r\n\r\nAlice\r\n",
        }), read: true);

        var report = new BodyBuilder { TextBody = "Hi,\r\n\r\nthe figures for the quarter are attached (report.csv).\r\n\r\nAlice\r\n" };
        report.Attachments.Add("report.csv", Encoding.UTF8.GetBytes("Region,Revenue\r\nNorth,1200\r\nSouth,950\r\n"), new ContentType("text", "csv"));
        Store(mail, Message(alice, demo, Subjects[1], now.AddHours(-2), report.ToMessageBody()), read: false);

        Store(mail, Message(bob, demo, Subjects[2], now.AddHours(-1), new BodyBuilder
        {
            TextBody = "Viele Grüße aus München!\r\n\r\nBob\r\n",
            HtmlBody = "<p>Viele <b>Grüße</b> aus München!</p><p>Bob</p>",
        }.ToMessageBody()), read: false);

        var lunch = Message(bob, demo, Subjects[3], now.AddMinutes(-10), new TextPart("plain") { Text = "Shall we meet at noon?\r\n\r\nBob\r\n" });
        lunch.Cc.Add(alice);
        lunch.Priority = MessagePriority.Urgent;
        Store(mail, lunch, read: false);
    }

    private static MimeMessage Message(MailboxAddress from, MailboxAddress to, string subject, DateTimeOffset date, MimeEntity body)
    {
        var message = new MimeMessage { Subject = subject, Date = date, Body = body };
        message.From.Add(from);
        message.To.Add(to);
        return message;
    }

    private static void Store(MailStore mail, MimeMessage message, bool read)
    {
        using var bytes = new MemoryStream();
        message.WriteTo(bytes);
        var id = mail.NewId();
        using (var content = MessageContent.FromBytes(bytes.ToArray()))
        {
            mail.Store(SandboxOptions.DemoUser, "Inbox", id, content);
        }

        if (read) mail.MarkRead(SandboxOptions.DemoUser, "Inbox", id);
    }
}
