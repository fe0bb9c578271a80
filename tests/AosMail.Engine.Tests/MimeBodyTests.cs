using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using Xunit;
using static AosMail.Engine.Tests.MimeWire;

namespace AosMail.Engine.Tests;

public sealed class MimeBodyTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private string File(string name, int size, int seed) => _files.Create(name, size, seed);

    private static void AssertWireSafe(AosPreparedSubmission prepared)
    {
        var body = Field(prepared, "body");
        Assert.All(body, c => Assert.True(c < 128, "body must be 7-bit"));
        Assert.False(Regex.IsMatch(body, "(?<!\r)\n|\r(?!\n)"), "body must use CRLF only");
        var mheader = Field(prepared, "mheader");
        foreach (var line in mheader.Split("\r\n"))
        {
            Assert.Matches("^[!-9;-~]+: \\S", line);
        }
    }

    [Fact]
    public void HtmlOnlyIsASingleTextHtmlEntity()
    {
        var message = new AosMessage { Body = "<p>Grüße</p>\n<p>second line</p>", BodyIsHtml = true };
        message.To.Add("a@x.org");
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        AssertWireSafe(prepared);
        var lines = Field(prepared, "mheader").Split("\r\n");
        Assert.Equal(3, lines.Length);
        Assert.Equal("MIME-Version: 1.0", lines[0]);
        Assert.Equal("Content-Type: text/html; charset=utf-8", lines[1]);
        Assert.Equal("Content-Transfer-Encoding: quoted-printable", lines[2]);

        var parsed = Reassemble(prepared);
        var html = Assert.IsType<TextPart>(parsed.Body);
        Assert.True(html.IsHtml);
        Assert.Equal("<p>Grüße</p>\n<p>second line</p>", parsed.HtmlBody);
        Assert.Empty(parsed.Attachments);
    }

    [Fact]
    public void TextWithAttachmentsIsMultipartMixedWithTextFirst()
    {
        var pdf = File("report.pdf", 3000, 1);
        var bin = File("data.bin", 77, 2);
        var message = new AosMessage { Body = "See attached.\nBye" };
        message.To.Add("a@x.org");
        message.Attachments.Add(AosAttachmentSource.FromFile(pdf));
        message.Attachments.Add(AosAttachmentSource.FromFile(bin));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Equal(2, prepared.AttachmentCount);
        AssertWireSafe(prepared);
        var lines = Field(prepared, "mheader").Split("\r\n");
        Assert.Equal(2, lines.Length);
        Assert.Equal("MIME-Version: 1.0", lines[0]);
        Assert.Matches("^Content-Type: multipart/mixed; boundary=\"[^\"]+\"$", lines[1]);

        var parsed = Reassemble(prepared);
        var mixed = Assert.IsType<Multipart>(parsed.Body);
        Assert.Equal("mixed", mixed.ContentType.MediaSubtype);
        Assert.Equal(3, mixed.Count);
        var text = Assert.IsType<TextPart>(mixed[0]);
        Assert.True(text.IsPlain);
        // MimeKit's reader hands text back with LF; the wire form itself is checked for CRLF above.
        Assert.Equal("See attached.\nBye", text.Text);

        var attachments = parsed.Attachments.Cast<MimePart>().ToArray();
        Assert.Equal(2, attachments.Length);
        Assert.Equal("report.pdf", attachments[0].FileName);
        Assert.Equal("application/pdf", attachments[0].ContentType.MimeType);
        Assert.Equal(ContentEncoding.Base64, attachments[0].ContentTransferEncoding);
        Assert.Equal(System.IO.File.ReadAllBytes(pdf), Bytes(attachments[0]));
        Assert.Equal("data.bin", attachments[1].FileName);
        Assert.Equal("application/octet-stream", attachments[1].ContentType.MimeType);
        Assert.Equal(System.IO.File.ReadAllBytes(bin), Bytes(attachments[1]));
    }

    [Fact]
    public void HtmlWithAttachmentIsMultipartMixed()
    {
        var png = File("chart.png", 500, 3);
        var message = new AosMessage { Body = "<b>Chart</b>", BodyIsHtml = true };
        message.To.Add("a@x.org");
        message.Attachments.Add(AosAttachmentSource.FromFile(png));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        AssertWireSafe(prepared);
        var parsed = Reassemble(prepared);
        var mixed = Assert.IsType<Multipart>(parsed.Body);
        Assert.Equal(2, mixed.Count);
        Assert.Equal("<b>Chart</b>", parsed.HtmlBody);
        var attachment = Assert.IsAssignableFrom<MimePart>(parsed.Attachments.Single());
        Assert.Equal("image/png", attachment.ContentType.MimeType);
        Assert.Equal("chart.png", attachment.FileName);
        Assert.Equal(System.IO.File.ReadAllBytes(png), Bytes(attachment));
    }

    [Theory]
    [InlineData("Übersicht März.txt", "text/plain", "iso-8859-1''%DCbersicht%20M%E4rz.txt")]
    [InlineData("報告 2024.pdf", "application/pdf", "utf-8''%E5%A0%B1%E5%91%8A%202024.pdf")]
    public void NonAsciiFileNameUsesRfc2231AndRoundTrips(string name, string mimeType, string encoded)
    {
        var path = File(name, 64, 4);
        var message = new AosMessage();
        message.To.Add("a@x.org");
        message.Attachments.Add(AosAttachmentSource.FromFile(path));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        AssertWireSafe(prepared);
        var body = Field(prepared, "body");
        Assert.Contains("Content-Type: " + mimeType + "; name*=" + encoded + "\r\n", body);
        Assert.Contains("\tfilename*=" + encoded + "\r\n", body);
        var parsed = Reassemble(prepared);
        var attachment = Assert.IsAssignableFrom<MimePart>(parsed.Attachments.Single());
        Assert.Equal(name, attachment.FileName);
        Assert.Equal(mimeType, attachment.ContentType.MimeType);
        Assert.Equal(System.IO.File.ReadAllBytes(path), Bytes(attachment));
        // No body text given: the attachment is the only part.
        Assert.Single(Assert.IsType<Multipart>(parsed.Body));
    }

    [Fact]
    public void UserHeadersComeBeforeTheMimeHeaders()
    {
        var message = new AosMessage { Body = "<i>x</i>", BodyIsHtml = true };
        message.To.Add("a@x.org");
        message.Headers.Add(new("X-Company", "Afteroffice"));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.StartsWith("X-Company: Afteroffice\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8", Field(prepared, "mheader"));
        Assert.Equal("Afteroffice", Reassemble(prepared).Headers["X-Company"]);
    }
}
