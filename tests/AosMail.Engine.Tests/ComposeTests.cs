using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using Xunit;
using static AosMail.Engine.Tests.MimeWire;

namespace AosMail.Engine.Tests;

/// <summary>
/// What admins compose beyond text, HTML and files: a text alternative, inline images,
/// attachments from memory, Reply-To, read receipts, a body from a file, and the checks that keep
/// what a mail system would choke on from being sent. Canned input, no network.
/// </summary>
public sealed class ComposeTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static AosMessage Message(string? body = null, bool html = false)
    {
        var message = new AosMessage { Subject = "s", Body = body, BodyIsHtml = html };
        message.To.Add("a@x.org");
        return message;
    }

    private static AosPreparedSubmission Prepare(AosMessage message) => AosFormBuilder.Prepare(message, AosSubmitKind.Send);

    private static AosException Fails(AosMessage message) => Assert.Throws<AosException>(() => Prepare(message));

    [Fact]
    public void TextBodyWithHtmlIsMultipartAlternativeTextFirst()
    {
        var message = Message("<p>Grüße</p>", html: true);
        message.TextBody = "Grüße\nin plain text";
        var parsed = Reassemble(Prepare(message));
        var alternative = Assert.IsType<MultipartAlternative>(parsed.Body);
        Assert.Equal(2, alternative.Count);
        Assert.Equal("text/plain", alternative[0].ContentType.MimeType);
        Assert.Equal("text/html", alternative[1].ContentType.MimeType);
        Assert.Equal("Grüße\nin plain text", parsed.TextBody!.Replace("\r\n", "\n").TrimEnd());
        Assert.Equal("<p>Grüße</p>", parsed.HtmlBody!.TrimEnd());
    }

    [Fact]
    public void TextBodyAloneIsThePlainBody()
    {
        var message = Message();
        message.TextBody = "just text";
        var prepared = Prepare(message);
        Assert.Equal("just text", Field(prepared, "body"));
        Assert.DoesNotContain(prepared.Fields, f => f.Name == "mheader");
    }

    [Fact]
    public void TextBodyWithAPlainBodyConflicts()
    {
        var message = Message("plain");
        message.TextBody = "other";
        Assert.Equal(AosErrorIds.ConflictingParameters, Fails(message).ErrorId);
    }

    [Fact]
    public void InlineImagesAreMultipartRelatedWithContentIds()
    {
        var logo = _files.Create("logo.png", 2000, 7);
        var message = Message("<p>Hi</p><img src=\"cid:logo\"><div style=\"background:url('cid:bg.1@x')\"></div>", html: true);
        message.TextBody = "Hi";
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>("logo", AosAttachmentSource.FromFile(logo)));
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>("bg.1@x", AosAttachmentSource.FromBytes("bg.gif", new byte[] { 71, 73, 70 })));
        message.Attachments.Add(AosAttachmentSource.FromBytes("data.csv", Encoding.UTF8.GetBytes("a,b\n1,2\n")));
        var prepared = Prepare(message);
        Assert.Empty(prepared.Warnings);

        var parsed = Reassemble(prepared);
        var mixed = Assert.IsType<Multipart>(parsed.Body);
        Assert.Equal("multipart/mixed", mixed.ContentType.MimeType);
        var alternative = Assert.IsType<MultipartAlternative>(mixed[0]);
        Assert.Equal("text/plain", alternative[0].ContentType.MimeType);
        var related = Assert.IsType<MultipartRelated>(alternative[1]);
        Assert.Equal("text/html", related.Root!.ContentType.MimeType);
        var images = related.Skip(1).Cast<MimePart>().ToArray();
        Assert.Equal(new[] { "logo", "bg.1@x" }, images.Select(i => i.ContentId));
        Assert.All(images, i => Assert.Equal(ContentDisposition.Inline, i.ContentDisposition!.Disposition));
        Assert.Equal("image/png", images[0].ContentType.MimeType);
        Assert.Equal(System.IO.File.ReadAllBytes(logo), Bytes(images[0]));
        Assert.Equal(new byte[] { 71, 73, 70 }, Bytes(images[1]));
        var csv = Assert.IsAssignableFrom<MimePart>(mixed[1]);
        Assert.Equal("data.csv", csv.FileName);
        Assert.Equal("text/csv", csv.ContentType.MimeType);
        Assert.Equal(Encoding.UTF8.GetBytes("a,b\n1,2\n"), Bytes(csv));
    }

    [Fact]
    public void ACidWithoutAnInlineAttachmentIsAnError()
    {
        var message = Message("<img src=\"cid:logo\"><img src='cid:Chart'>", html: true);
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>("logo", AosAttachmentSource.FromBytes("l.png", new byte[1])));
        var error = Fails(message);
        Assert.Equal(AosErrorIds.MissingInlineAttachment, error.ErrorId);
        Assert.Equal("Chart", error.Target);
        Assert.Contains("it has: logo", error.Message);
    }

    [Fact]
    public void AnInlineAttachmentTheHtmlNeverShowsIsAWarning()
    {
        var message = Message("<p>Ticket CID:42, no image</p>", html: true);
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>("logo", AosAttachmentSource.FromBytes("l.png", new byte[1])));
        var warning = Assert.Single(Prepare(message).Warnings);
        Assert.Contains("'logo'", warning);
    }

    [Fact]
    public void InlineAttachmentsNeedAnHtmlBody()
    {
        var message = Message("plain text");
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>("logo", AosAttachmentSource.FromBytes("l.png", new byte[1])));
        Assert.Equal(AosErrorIds.ConflictingParameters, Fails(message).ErrorId);
    }

    // The HTML refers only to a usable id that is given, so nothing but the tested id's syntax can fail.
    [Theory]
    [InlineData("two words")]
    [InlineData("<logo>")]
    [InlineData("a\"b")]
    public void AContentIdMustBeUsable(string contentId)
    {
        var message = Message("<img src=\"cid:x\">", html: true);
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>("x", AosAttachmentSource.FromBytes("x.png", new byte[1])));
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>(contentId, AosAttachmentSource.FromBytes("l.png", new byte[1])));
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidAttachment, error.ErrorId);
        Assert.Contains("is not a usable content id", error.Message);
    }

    [Fact]
    public void AnHtmlReferenceToAContentIdNotGivenIsMissingInlineAttachment()
    {
        var message = Message("<img src=\"cid:x\">", html: true);
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>("logo", AosAttachmentSource.FromBytes("l.png", new byte[1])));
        Assert.Equal(AosErrorIds.MissingInlineAttachment, Fails(message).ErrorId);
    }

    [Fact]
    public void BytesNeedANameAndANonAsciiNameIsRfc2231()
    {
        var message = Message("x");
        message.Attachments.Add(AosAttachmentSource.FromBytes(" ", new byte[3]));
        Assert.Equal(AosErrorIds.InvalidAttachment, Fails(message).ErrorId);

        message.Attachments.Clear();
        message.Attachments.Add(AosAttachmentSource.FromBytes("Übersicht März.csv", new byte[] { 1, 2, 3 }));
        var prepared = Prepare(message);
        Assert.Contains("filename*=iso-8859-1''%DCbersicht%20M%E4rz.csv", Field(prepared, "body"));
        Assert.Equal("Übersicht März.csv", Reassemble(prepared).Attachments.Single().ContentDisposition!.FileName);
    }

    [Fact]
    public void ReplyToAndReadReceiptComeAfterTheUserHeadersAndBeforeMime()
    {
        var message = Message("<p>x</p>", html: true);
        message.Headers.Add(new KeyValuePair<string, string>("X-Company", "Example"));
        message.ReplyTo.Add("Help Desk <help@x.org>, b@x.org");
        message.ReadReceiptTo = "demo@sandbox.test";
        var lines = Field(Prepare(message), "mheader").Split("\r\n");
        Assert.Equal("X-Company: Example", lines[0]);
        Assert.Equal("Reply-To: Help Desk <help@x.org>, b@x.org", lines[1]);
        Assert.Equal("Disposition-Notification-To: demo@sandbox.test", lines[2]);
        Assert.Equal("MIME-Version: 1.0", lines[3]);
    }

    [Theory]
    [InlineData("Reply-To", true)]
    [InlineData("disposition-notification-to", false)]
    public void AComposedHeaderCannotAlsoComeFromHeader(string header, bool replyTo)
    {
        var message = Message("x");
        message.Headers.Add(new KeyValuePair<string, string>(header, "c@x.org"));
        Prepare(message);
        if (replyTo) message.ReplyTo.Add("d@x.org");
        else message.ReadReceiptTo = "demo@x.org";
        var error = Fails(message);
        Assert.Equal(AosErrorIds.ConflictingParameters, error.ErrorId);
        Assert.Equal(header, error.Target);
    }

    [Theory]
    [InlineData("not an address")]
    [InlineData("a@x.org\u0085")]
    public void ReplyToIsCheckedLikeTo(string entry)
    {
        var message = Message("x");
        message.ReplyTo.Add(entry);
        Assert.Equal(AosErrorIds.InvalidAddress, Fails(message).ErrorId);
    }

    [Fact]
    public void AReadReceiptNeedsAFullAddress()
    {
        var message = Message("x");
        message.ReadReceiptTo = "demo";
        var error = Fails(message);
        Assert.Equal(AosErrorIds.InvalidAddress, error.ErrorId);
        Assert.Contains("-Domain", error.Message);
    }

    [Fact]
    public void BodyPathIsReadAsUtf8UnlessAnEncodingOrAByteOrderMarkSaysOtherwise()
    {
        var path = _files.Create("body.txt", 0, 0);
        System.IO.File.WriteAllText(path, "Grüße\nZeile 2", new UTF8Encoding(false));
        var message = Message();
        message.BodyPath = path;
        Assert.Equal("Grüße\r\nZeile 2", Field(Prepare(message), "body"));

        System.IO.File.WriteAllBytes(path, Encoding.GetEncoding("iso-8859-1").GetBytes("Grüße"));
        message.BodyEncoding = Encoding.GetEncoding("iso-8859-1");
        Assert.Equal("Grüße", Field(Prepare(message), "body"));

        System.IO.File.WriteAllText(path, "Grüße", Encoding.Unicode);  // with its byte order mark
        message.BodyEncoding = null;
        Assert.Equal("Grüße", Field(Prepare(message), "body"));

        message.Body = "also a body";
        Assert.Equal(AosErrorIds.ConflictingParameters, Fails(message).ErrorId);
        message.Body = null;
        message.BodyPath = path + ".missing";
        Assert.Equal(AosErrorIds.BodyFileNotFound, Fails(message).ErrorId);
        message.BodyPath = null;

        // -Encoding with -Body (Send-MailMessage's habit): nothing to decode, the body goes as UTF-8.
        message.Body = "Grüße";
        message.BodyEncoding = Encoding.GetEncoding("iso-8859-1");
        Assert.Equal("Grüße", Field(Prepare(message), "body"));
        Assert.Contains("charset=utf-8", Field(Prepare(message), "mheader"));
    }

#if NET
    // FIFOs and devices are told from files through .NET's own System.Native, which .NET Framework
    // (Windows, where only \\.\ device paths exist) and Mono do not have.
    [Fact]
    public void NonRegularFilesAreRefused()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return;
        var fifo = Path.Combine(Path.GetTempPath(), "aosmail-fifo-" + Guid.NewGuid().ToString("N"));
        using (var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", fifo) { UseShellExecute = false }))
        {
            mkfifo!.WaitForExit();
        }

        try
        {
            foreach (var path in new[] { fifo, "/dev/zero" })
            {
                var message = Message("x");
                message.Attachments.Add(AosAttachmentSource.FromFile(path));
                var error = Fails(message);
                Assert.Equal(AosErrorIds.InvalidAttachment, error.ErrorId);
                Assert.Contains("not a regular file", error.Message);

                message.Attachments.Clear();
                message.Body = null;
                message.BodyPath = path;
                Assert.Equal(AosErrorIds.BodyFileNotFound, Fails(message).ErrorId);
            }
        }
        finally
        {
            System.IO.File.Delete(fifo);
        }
    }

#endif
    [Theory]
    [InlineData(100)]
    [InlineData(-100)]
    public async Task AnAttachmentThatChangesSizeStopsTheSendingPass(int change)
    {
        var path = _files.Create("growing.log", 5000, 3);
        var message = Message("see the log");
        message.Attachments.Add(AosAttachmentSource.FromFile(path));
        var prepared = Prepare(message);
        using (var content = new AosFormContent(prepared.Fields))
        {
            long measured = content.Length;
            var bytes = System.IO.File.ReadAllBytes(path);
            System.IO.File.WriteAllBytes(path, change > 0 ? bytes.Concat(new byte[change]).ToArray() : bytes.Take(bytes.Length + change).ToArray());
            // Measuring again reads no further than the prepared length and never fails...
            Assert.InRange(AosFormContent.Measure(prepared.Fields), 1, measured);
            // ...the sending pass stops before the body is complete.
            var copying = await Assert.ThrowsAsync<HttpRequestException>(() => content.CopyToAsync(Stream.Null));
            var error = Assert.IsType<AosContentChangedException>(copying.InnerException);
            Assert.Contains("growing.log", error.Message);
            Assert.Contains(change > 0 ? "grew" : "shrank", error.Message);
        }

        Assert.Equal(AosFaultKind.ContentChanged, AosTransportFault.Classify(new HttpRequestException("copy failed", new AosContentChangedException("x"))));
    }
}
