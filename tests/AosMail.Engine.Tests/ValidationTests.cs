using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace AosMail.Engine.Tests;

public class ValidationTests
{
    private static AosMessage Valid()
    {
        var message = new AosMessage { Subject = "s", Body = "b" };
        message.To.Add("a@x.org");
        return message;
    }

    private static AosException Fails(AosMessage message, AosSubmitKind kind = AosSubmitKind.Send) =>
        Assert.Throws<AosException>(() => AosFormBuilder.Prepare(message, kind));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void EmptyAddress(string entry)
    {
        var message = Valid();
        message.Cc.Add(entry);
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidAddress, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
        Assert.Equal(entry, error.Target);
    }

    [Theory]
    [InlineData("not an address")]
    [InlineData("bob")]
    [InlineData("bob@")]
    [InlineData("@x.org")]
    [InlineData("Bob <b@y.org")]
    [InlineData("a@x.org, , <>")]
    [InlineData("a@x.org; b@x.org;; bob")]
    [InlineData(";")]
    public void MalformedAddress(string entry)
    {
        var message = Valid();
        message.To.Add(entry);
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidAddress, error.ErrorId);
        Assert.Equal(entry, error.Target);
        Assert.Contains(entry, error.Message);
    }

    [Theory]
    [InlineData("Alice\u0085Evil <a@x.org>", "U+0085")]
    [InlineData("a@x.org\u2028", "U+2028")]
    [InlineData("Bob\u2029 <b@x.org>", "U+2029")]
    [InlineData("a\u0001@x.org", "U+0001")]
    [InlineData("Alice\t<a@x.org>", "U+0009")]
    [InlineData("a\u007F@x.org", "U+007F")]
    [InlineData("a\u009B@x.org", "U+009B")]
    public void ControlCharacterInAnAddress(string entry, string named)
    {
        var message = Valid();
        message.Cc.Add(entry);
        var error = Fails(message, AosSubmitKind.SaveDraft);
        Assert.Equal(AosErrorIds.InvalidAddress, error.ErrorId);
        Assert.Equal(entry, error.Target);
        Assert.Contains(named, error.Message);
        // The message shows the character escaped, so the error stays one readable line.
        Assert.DoesNotContain(entry, error.Message);
    }

    [Fact]
    public void GroupAddress()
    {
        var message = Valid();
        message.Bcc.Add("Team: a@x.org, b@x.org;");
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidAddress, error.ErrorId);
        Assert.Contains("group", error.Message);
    }

    [Fact]
    public void SendWithoutRecipients()
    {
        var error = Fails(new AosMessage { Subject = "s" });
        Assert.Equal(AosErrorIds.NoRecipient, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
    }

    [Fact]
    public void DraftWithoutRecipientsIsAllowed() =>
        Assert.Equal(AosSubmitKind.SaveDraft, AosFormBuilder.Prepare(new AosMessage { Subject = "s" }, AosSubmitKind.SaveDraft).Kind);

    [Theory]
    [InlineData("a\r\nBcc: x@evil.org")]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("a\0b")]
    public void SubjectWithLineBreakOrNul(string subject)
    {
        var message = Valid();
        message.Subject = subject;
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidSubject, error.ErrorId);
        Assert.Equal(subject, error.Target);
        Assert.DoesNotContain("\n", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("X Bad")]
    [InlineData("X:Bad")]
    [InlineData("X-Ümlaut")]
    [InlineData("X-Tab\t")]
    public void InvalidHeaderName(string name)
    {
        var message = Valid();
        message.Headers.Add(new KeyValuePair<string, string>(name, "v"));
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidHeaderName, error.ErrorId);
        Assert.Equal(name, error.Target);
    }

    [Theory]
    [InlineData("From")]
    [InlineData("to")]
    [InlineData("CC")]
    [InlineData("bcc")]
    [InlineData("SUBJECT")]
    [InlineData("date")]
    [InlineData("message-id")]
    [InlineData("Mime-Version")]
    [InlineData("content-type")]
    [InlineData("CONTENT-TRANSFER-ENCODING")]
    [InlineData("Resent-From")]
    [InlineData("resent-message-id")]
    public void ReservedHeaderInAnyCase(string name)
    {
        var message = Valid();
        message.Headers.Add(new KeyValuePair<string, string>(name, "v"));
        var error = Fails(message);
        Assert.Equal(AosErrorIds.ReservedHeader, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
        Assert.Equal(name, error.Target);
    }

    [Theory]
    [InlineData("x\r\nBcc: victim@x.org", "x\\r\\nBcc: victim@x.org")]
    [InlineData("x\nY: 1", "x\\nY: 1")]
    [InlineData("x\ry", "x\\ry")]
    [InlineData("x\0y", "x\\0y")]
    public void HeaderInjection(string value, string shown)
    {
        var message = Valid();
        message.Headers.Add(new KeyValuePair<string, string>("X-Safe", value));
        var error = Fails(message);
        Assert.Equal(AosErrorIds.HeaderInjection, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
        Assert.Contains("X-Safe", error.Message);
        Assert.Contains(shown, error.Message);
        Assert.Equal(value, error.Target);
    }

    [Fact]
    public void SubjectUpToTheHeaderLineLimit()
    {
        var message = Valid();
        message.Subject = new string('a', 989);
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Equal(989, prepared.Fields.Single(f => f.Name == "msub").Value!.Length);

        message.Subject = new string('a', 990);
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidSubject, error.ErrorId);
        Assert.Contains("999", error.Message);
        Assert.Contains("998", error.Message);
    }

    [Fact]
    public void NonAsciiSubjectIsMeasuredEncoded()
    {
        var message = Valid();
        message.Subject = string.Concat(Enumerable.Repeat("日本", 150));
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidSubject, error.ErrorId);
        Assert.Contains("300 characters", error.Message);

        message.Subject = string.Concat(Enumerable.Repeat("日本", 100));
        var line = AosFormBuilder.Prepare(message, AosSubmitKind.Send).Fields.Single(f => f.Name == "msub").Value!;
        Assert.InRange("Subject: ".Length + line.Length, 600, 998);
    }

    [Theory]
    [InlineData("X-Priority")]
    [InlineData("x-msmail-priority")]
    [InlineData("Importance")]
    [InlineData("priority")]
    public void PriorityAndAPriorityHeaderConflict(string name)
    {
        var message = Valid();
        message.Headers.Add(new KeyValuePair<string, string>(name, "1"));
        AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        message.Priority = 2;
        var error = Fails(message);
        Assert.Equal(AosErrorIds.ConflictingParameters, error.ErrorId);
        Assert.Equal(name, error.Target);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    [InlineData(-1)]
    public void PriorityOutOfRange(int priority)
    {
        var message = Valid();
        message.Priority = priority;
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidPriority, error.ErrorId);
        Assert.Equal(priority, error.Target);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void PriorityAtTheEdgesIsFine(int priority)
    {
        var message = Valid();
        message.Priority = priority;
        Assert.Contains(AosFormBuilder.Prepare(message, AosSubmitKind.Send).Fields, f => f.Name == "mprio" && f.Value == priority.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a/b")]
    [InlineData("ä")]
    [InlineData("x\n")]
    [InlineData("12345678901234567890123456789012345678901234567890123456789012345")]
    public void BadDraftId(string draftId)
    {
        var message = Valid();
        message.DraftId = draftId;
        var error = Fails(message, AosSubmitKind.SaveDraft);
        Assert.Equal(AosErrorIds.InvalidDraftId, error.ErrorId);
        Assert.Equal(draftId, error.Target);
    }

    [Fact]
    public void DraftIdOf64CharactersIsFine()
    {
        var message = Valid();
        message.DraftId = new string('a', 64);
        Assert.Equal(new string('a', 64), AosFormBuilder.Prepare(message, AosSubmitKind.SaveDraft).DraftId);
    }

    [Fact]
    public void MissingAttachment()
    {
        var message = Valid();
        var path = Path.Combine(Path.GetTempPath(), "aosmail-no-such-file-" + System.Guid.NewGuid().ToString("N") + ".pdf");
        message.Attachments.Add(AosAttachmentSource.FromFile(path));
        var error = Fails(message);
        Assert.Equal(AosErrorIds.AttachmentNotFound, error.ErrorId);
        Assert.Equal(AosErrorCategory.ObjectNotFound, error.Category);
        Assert.Equal(path, error.Target);
    }

    [Fact]
    public void AFolderIsNotAnAttachment()
    {
        var message = Valid();
        message.Attachments.Add(AosAttachmentSource.FromFile(Path.GetTempPath()));
        Assert.Equal(AosErrorIds.AttachmentNotFound, Fails(message).ErrorId);
    }

    [Fact]
    public void ProblemsAreReportedInAStableOrder()
    {
        var message = new AosMessage { Subject = "a\nb", Priority = 9, DraftId = "bad id" };
        message.Headers.Add(new KeyValuePair<string, string>("From", "x"));
        message.Attachments.Add(AosAttachmentSource.FromFile("/no/such/file"));
        message.To.Add("broken");
        Assert.Equal(AosErrorIds.InvalidAddress, Fails(message).ErrorId);
        message.To.Clear();
        Assert.Equal(AosErrorIds.NoRecipient, Fails(message).ErrorId);
        message.To.Add("a@x.org");
        Assert.Equal(AosErrorIds.InvalidSubject, Fails(message).ErrorId);
        message.Subject = "ok";
        Assert.Equal(AosErrorIds.ReservedHeader, Fails(message).ErrorId);
        message.Headers.Clear();
        Assert.Equal(AosErrorIds.InvalidPriority, Fails(message).ErrorId);
        message.Priority = null;
        Assert.Equal(AosErrorIds.InvalidDraftId, Fails(message).ErrorId);
        message.DraftId = null;
        Assert.Equal(AosErrorIds.AttachmentNotFound, Fails(message).ErrorId);
    }

    // ---- inputs a mail system would choke on ----

    [Theory]
    [InlineData("To", "jösé@example.com", "jösé")]
    [InlineData("Cc", "José <josé@example.com>", "josé")]
    [InlineData("Bcc", "a@x.org, 日本@example.jp", "日本")]
    [InlineData("ReplyTo", "ünd@example.org", "ünd")]
    public void ANonAsciiLocalPartIsRefused(string list, string entry, string localPart)
    {
        var message = Valid();
        (list switch { "To" => message.To, "Cc" => message.Cc, "Bcc" => message.Bcc, _ => message.ReplyTo }).Add(entry);
        var error = Fails(message, AosSubmitKind.SaveDraft);
        Assert.Equal(AosErrorIds.InvalidAddress, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
        Assert.Equal(entry, error.Target);
        Assert.Contains($"'{localPart}'", error.Message);
        Assert.Contains("SMTPUTF8", error.Message);
    }

    [Fact]
    public void AnIdnDomainAndANonAsciiDisplayNameAreFine()
    {
        var message = Valid();
        message.To.Clear();
        message.To.Add("Jörg <joerg@bücher.example>");
        var mto = MimeWire.Field(AosFormBuilder.Prepare(message, AosSubmitKind.Send), "mto");
        Assert.EndsWith("<joerg@xn--bcher-kva.example>", mto);
        Assert.All(mto, c => Assert.True(c < 128));
    }

    [Theory]
    [InlineData("\u001b[31mred", "U+001B")]
    [InlineData("a\u007fb", "U+007F")]
    [InlineData("ring\u0007", "U+0007")]
    [InlineData("x\u0085y", "U+0085")]
    [InlineData("x\u2028y", "U+2028")]
    public void AControlCharacterInTheSubjectIsRefused(string subject, string named)
    {
        var message = Valid();
        message.Subject = subject;
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidSubject, error.ErrorId);
        Assert.Equal(subject, error.Target);
        Assert.Contains(named, error.Message);
        // The character shown escaped: the message stays one readable line and never drives a terminal.
        Assert.DoesNotContain(error.Message, c => c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == '\u2028');
    }

    [Theory]
    [InlineData("\u001b[31mred", "U+001B")]
    [InlineData("a\u007fb", "U+007F")]
    [InlineData("a\u0001b", "U+0001")]
    public void AControlCharacterInAHeaderValueIsRefused(string value, string named)
    {
        var message = Valid();
        message.Headers.Add(new KeyValuePair<string, string>("X-Color", value));
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidHeaderValue, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
        Assert.Equal(value, error.Target);
        Assert.Contains("X-Color", error.Message);
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void ATabInTheSubjectOrAHeaderValueIsSentAsItIs()
    {
        var message = Valid();
        message.Subject = "a\tb";
        message.Headers.Add(new KeyValuePair<string, string>("X-Tab", "c\td"));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Equal("a\tb", MimeWire.Field(prepared, "msub"));
        Assert.Equal("X-Tab: c\td", MimeWire.Field(prepared, "mheader"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void AnEmptyContentIdIsRefused(string contentId)
    {
        var message = Valid();
        message.Body = "<p>no image</p>";
        message.BodyIsHtml = true;
        var source = AosAttachmentSource.FromBytes("l.png", new byte[1]);
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>(contentId, source));
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidAttachment, error.ErrorId);
        Assert.Same(source, error.Target);
        Assert.Contains("empty content id", error.Message);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../etc/passwd")]
    [InlineData("dir/a.txt")]
    [InlineData("dir\\a.txt")]
    [InlineData("C:\\a.txt")]
    public void AnAttachmentNameThatIsNotOneFileNameIsRefused(string name)
    {
        var message = Valid();
        var source = AosAttachmentSource.FromBytes(name, new byte[1]);
        message.Attachments.Add(source);
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidAttachment, error.ErrorId);
        Assert.Same(source, error.Target);
        Assert.Contains($"'{name}'", error.Message);
    }

    [Theory]
    [InlineData("a..b.txt")]
    [InlineData(".profile")]
    [InlineData("report (1).pdf")]
    public void NamesWithDotsAreFine(string name)
    {
        var message = Valid();
        message.Attachments.Add(AosAttachmentSource.FromBytes(name, new byte[1]));
        Assert.Equal(1, AosFormBuilder.Prepare(message, AosSubmitKind.Send).AttachmentCount);
    }
}
