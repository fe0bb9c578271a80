using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// Inputs a mail system would choke on, refused by Prepare (so before any request) with a
/// documented id that names the bad value: non-ASCII local parts, control characters in subjects
/// and header values, empty content ids, attachment names that are not one file name.
/// </summary>
public class RefusedInputTests
{
    private static AosMessage Valid()
    {
        var message = new AosMessage { Subject = "s", Body = "b" };
        message.To.Add("a@x.org");
        return message;
    }

    private static AosException Fails(AosMessage message, AosSubmitKind kind = AosSubmitKind.Send) =>
        Assert.Throws<AosException>(() => AosFormBuilder.Prepare(message, kind));

    private static string Field(AosPreparedSubmission prepared, string name) => prepared.Fields.Single(f => f.Name == name).Materialize();

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
        var mto = Field(AosFormBuilder.Prepare(message, AosSubmitKind.Send), "mto");
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
        Assert.Equal("a\tb", Field(prepared, "msub"));
        Assert.Equal("X-Tab: c\td", Field(prepared, "mheader"));
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
