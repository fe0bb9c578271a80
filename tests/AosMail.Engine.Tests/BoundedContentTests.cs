using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// What a read or a send holds is bounded by design, not by what the server or the input says
/// (docs/aos-protocol.md B23): header blocks are refused past a limit before MimeKit parses them,
/// bodies are cut, attachments given as streams are read in place or through a temporary file.
/// </summary>
public sealed class BoundedContentTests
{
    private static readonly Encoding Ascii = Encoding.ASCII;

    private static void FeedAll(AosHeaderBlockGuard guard, string text, int chunk = 7)
    {
        // Small, odd chunks: a line split across reads must be seen whole.
        var bytes = Encoding.GetEncoding("iso-8859-1").GetBytes(text);
        for (int i = 0; i < bytes.Length; i += chunk)
        {
            guard.Feed(bytes, i, Math.Min(chunk, bytes.Length - i));
        }
    }

    private static AosException Refused(string message, long limit) =>
        Assert.Throws<AosException>(() => FeedAll(new AosHeaderBlockGuard("1.2", limit), message));

    [Fact]
    public void TheDocumentedLimitsArePinned()
    {
        // docs/aos-protocol.md B23 and about_AosMail_Errors name these values: a change is a documented change.
        Assert.Equal(1L * 1024 * 1024, AosProtocol.HeaderBlockMaxBytes);
        Assert.Equal(4 * 1024 * 1024, AosProtocol.ParsedBodyMaxChars);
        Assert.Equal(1L * 1024 * 1024 * 1024, AosProtocol.SpooledStreamMaxBytes);
    }

    [Fact]
    public void AMessageHeaderBlockOverTheLimitIsRefusedAsAProtocolError()
    {
        var e = Refused("Subject: " + new string('x', 300) + "\r\n\r\nbody\r\n", 200);
        Assert.Equal(AosErrorIds.ServerRejected, e.ErrorId);
        Assert.Equal(AosErrorCategory.ProtocolError, e.Category);
        Assert.Contains("'1.2'", e.Message);
        Assert.Contains("Save-AosMessage", e.Message);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    public void HeaderBlocksUpToTheLimitAndLongBodyLinesPass(string eol)
    {
        string headers = "From: a@example.com" + eol + "Subject: " + new string('s', 100) + eol + eol;
        var guard = new AosHeaderBlockGuard("1.2", headers.Length);
        FeedAll(guard, headers + new string('b', 100_000) + eol + "--not-a-boundary" + eol + new string('c', 5000) + eol);
    }

    [Fact]
    public void APartHeaderOverTheLimitIsRefused()
    {
        string message = "Content-Type: multipart/mixed;\r\n boundary=\"=-b1\"\r\n\r\npreamble\r\n"
            + "--=-b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
            + "--=-b1\r\nContent-Type: application/octet-stream\r\nX-Long: " + new string('x', 500) + "\r\n\r\ndata\r\n--=-b1--\r\n";
        Refused(message, 300);

        // The same message with a short header passes: the boundary on a continuation line was found.
        FeedAll(new AosHeaderBlockGuard("1.2", 300), message.Replace(new string('x', 500), "short"));
    }

    [Fact]
    public void AnAttachedMessagesHeaderOverTheLimitIsRefused()
    {
        string message = "Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
            + "--b1\r\nContent-Type: message/rfc822\r\n\r\n"
            + "Subject: " + new string('y', 500) + "\r\n\r\ninner\r\n--b1--\r\n";
        Refused(message, 300);
    }

    [Fact]
    public void ABodyLineThatOnlyLooksLikeADelimiterStartsNoHeaderBlock()
    {
        // "--b2" is not a boundary of any multipart here; nor is the closing "--b1--" a start.
        string message = "Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
            + "--b1\r\nContent-Type: text/plain\r\n\r\n--b2\r\n" + new string('z', 1000) + "\r\n--b1--\r\n" + new string('q', 1000) + "\r\n";
        FeedAll(new AosHeaderBlockGuard("1.2", 300), message);
    }

    private static MimeMessage Structure(string shape)
    {
        TextPart Text(string subtype, string text) => new TextPart(subtype) { Text = text };
        var attachment = new MimePart("application", "pdf") { Content = new MimeContent(new MemoryStream(new byte[] { 1, 2, 3 })), FileName = "a.pdf" };
        var attachedText = new TextPart("plain") { Text = "attached text", ContentDisposition = new ContentDisposition(ContentDisposition.Attachment) };
        MimeEntity body = shape switch
        {
            "plain" => Text("plain", "only plain"),
            "html" => Text("html", "<p>only html</p>"),
            "alternative" => new MultipartAlternative { Text("plain", "alt plain"), Text("html", "<p>alt html</p>") },
            "alternative-related" => new MultipartAlternative { Text("plain", "p"), new MultipartRelated { Text("html", "<p>related</p>"), attachment } },
            "mixed" => new Multipart("mixed") { attachedText, Text("plain", "mixed plain"), attachment },
            "mixed-alternative" => new Multipart("mixed") { new MultipartAlternative { Text("plain", "ma plain"), Text("html", "<b>ma</b>") }, attachment },
            "attachment-only" => new Multipart("mixed") { attachedText, attachment },
            _ => throw new ArgumentException(shape),
        };
        return new MimeMessage { Body = body };
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("html")]
    [InlineData("alternative")]
    [InlineData("alternative-related")]
    [InlineData("mixed")]
    [InlineData("mixed-alternative")]
    [InlineData("attachment-only")]
    public void TheBodyFoundIsTheOneMimeKitReads(string shape)
    {
        var message = Structure(shape);
        Assert.Equal(message.TextBody, AosMimeReader.FindBody(message.Body, html: false)?.Text);
        Assert.Equal(message.HtmlBody, AosMimeReader.FindBody(message.Body, html: true)?.Text);
    }

    private static byte[] Raw(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        return stream.ToArray();
    }

    [Fact]
    public void ABodyOverTheLimitIsCutAndSaysSo()
    {
        // Half a line over the limit at least, whatever newline MimeKit writes.
        var text = string.Concat(Enumerable.Repeat("0123456789abcdeü\r\n", AosProtocol.ParsedBodyMaxChars / 17 + 10_000));
        var plain = new TextPart("plain");
        plain.SetText("utf-8", text);
        var message = new MimeMessage { Subject = "big", Body = new MultipartAlternative { plain, new TextPart("html") { Text = "<p>small</p>" } } };

        var raw = Raw(message);
        var read = AosMimeReader.Parse(raw, "1.2");

        Assert.True(read.BodyTruncated);
        Assert.Equal(AosProtocol.ParsedBodyMaxChars, read.TextBody!.Length);
        Assert.Equal(MimeMessage.Load(new MemoryStream(raw)).TextBody!.Substring(0, AosProtocol.ParsedBodyMaxChars), read.TextBody);
        Assert.Equal("<p>small</p>", read.HtmlBody);
    }

    [Fact]
    public void ABodyUnderTheLimitIsWholeAndNotMarked()
    {
        var message = new MimeMessage { Body = new TextPart("plain") { Text = "héllo" } };
        var raw = Raw(message);
        var read = AosMimeReader.Parse(raw, "1.2");
        Assert.False(read.BodyTruncated);
        Assert.Equal(MimeMessage.Load(new MemoryStream(raw)).TextBody, read.TextBody);
        Assert.StartsWith("héllo", read.TextBody);
    }

    [Fact]
    public void ASeekableStreamIsReadInPlaceFromWhereItStood()
    {
        var content = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        using var stream = new MemoryStream(content);
        stream.Position = 100;
        using var source = AosAttachmentSource.FromStream("a.bin", stream);

        Assert.Null(source.Content);
        Assert.Same(stream, source.Stream);
        Assert.Equal(900, source.StreamLength);
        // Two passes (measuring, sending) read the same bytes, and leave the caller's stream open.
        for (int pass = 0; pass < 2; pass++)
        {
            using var copy = new MemoryStream();
            using (var read = source.OpenStream(strict: true))
            {
                read.CopyTo(copy);
            }

            Assert.Equal(content.Skip(100).ToArray(), copy.ToArray());
        }

        source.Dispose();
        Assert.True(stream.CanRead);
        Assert.Equal(100, stream.Position);
    }

    [Fact]
    public async Task RowsSharingOneStreamEachReadAllOfIt()
    {
        // -Attachments given once on the command line for rows sent at once (-ThrottleLimit).
        var content = new byte[300_000];
        new Random(5).NextBytes(content);
        using var stream = new MemoryStream(content);
        var sources = Enumerable.Range(0, 4).Select(_ => AosAttachmentSource.FromStream("a.bin", stream)).ToArray();
        var copies = await Task.WhenAll(sources.Select(source => Task.Run(async () =>
        {
            using var copy = new MemoryStream();
            using (var read = source.OpenStream(strict: true))
            {
                var buffer = new byte[4093];
                int n;
                while ((n = await read.ReadAsync(buffer, 0, buffer.Length, CancellationToken.None)) > 0)
                {
                    copy.Write(buffer, 0, n);
                }
            }

            return copy.ToArray();
        })));
        Assert.All(copies, copy => Assert.Equal(content, copy));
    }

    private static MemoryStream Gzipped(byte[] content)
    {
        var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionMode.Compress, leaveOpen: true))
        {
            gzip.Write(content, 0, content.Length);
        }

        packed.Position = 0;
        return packed;
    }

    [Fact]
    public void AStreamThatCannotSeekIsCopiedToATemporaryFileThatGoesWithTheSource()
    {
        var content = new byte[200_000];
        new Random(6).NextBytes(content);
        using var unseekable = new GZipStream(Gzipped(content), CompressionMode.Decompress);
        Assert.False(unseekable.CanSeek);

        var source = AosAttachmentSource.FromStream("a.bin", unseekable);
        var spool = Assert.IsType<FileStream>(source.Stream);
        string path = spool.Name;
        Assert.True(File.Exists(path));
        using (var copy = new MemoryStream())
        {
            using (var read = source.OpenStream(strict: true))
            {
                read.CopyTo(copy);
            }

            Assert.Equal(content, copy.ToArray());
        }

        source.Dispose();
        Assert.False(File.Exists(path));
    }

    /// <summary>Never ends, and cannot seek: a generator, a network stream that never closes.</summary>
    private sealed class EndlessStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => count;
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void AnEndlessStreamEndsWithAClearErrorAtTheCap()
    {
        string[] before = Directory.GetFiles(Path.GetTempPath(), "AosMail-*.tmp");
        var e = Assert.Throws<AosException>(() => AosAttachmentSource.FromStream("endless.bin", new EndlessStream(), 1_000_000, CancellationToken.None));
        Assert.Equal(AosErrorIds.InvalidAttachment, e.ErrorId);
        Assert.Contains("'endless.bin'", e.Message);
        Assert.Contains("1000000 bytes", e.Message);
        Assert.Contains("Nothing was sent", e.Message);
        // The partial copy is gone.
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), "AosMail-*.tmp").Except(before));
    }

    /// <summary>A stream that fails its first read, as a closed handle or a failing disk does.</summary>
    private sealed class FailingStream : Stream
    {
        private readonly Exception _error;
        public FailingStream(Exception error) => _error = error;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw _error;
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData(typeof(IOException))]
    [InlineData(typeof(InvalidOperationException))]
    [InlineData(typeof(UnauthorizedAccessException))]
    public void AStreamThatCannotBeReadIsAnInvalidAttachment(Type error)
    {
        var e = Assert.Throws<AosException>(() => AosAttachmentSource.FromStream("broken.bin", new FailingStream((Exception)Activator.CreateInstance(error, "boom")!)));
        Assert.Equal(AosErrorIds.InvalidAttachment, e.ErrorId);
        Assert.Contains("'broken.bin' could not be read: boom", e.Message);
    }
}
