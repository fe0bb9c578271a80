using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace AosMail.Engine.Tests;

[CollectionDefinition(nameof(StreamingBodyTests), DisableParallelization = true)]
public sealed class StreamingCollection
{
}

/// <summary>
/// A MIME body is streamed into the request (MimeKit, then form encoding, then the socket),
/// never held. These tests prove the streamed form is byte-identical to a buffered reference:
/// MimeKit writing the whole entity to memory, CRLF-normalised, then form-encoded as one
/// string (so MimeKit's output needs no newline fix-up of its own). Not parallel: one test
/// counts the bytes allocated.
/// </summary>
[Collection(nameof(StreamingBodyTests))]
public sealed class StreamingBodyTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private string File(string name, int size, int seed) => _files.Create(name, size, seed);

    /// <summary>The buffered reference: the whole entity as one string, then the form encoder.</summary>
    private static byte[] Buffered(AosPreparedSubmission prepared)
    {
        var fields = new List<AosFormField>();
        foreach (var field in prepared.Fields)
        {
            if (field.IsStreamed)
            {
                var body = (AosMimeBody)field.Writer!;
                var text = body.WithContent(entity =>
                {
                    using var output = new MemoryStream();
                    entity.WriteTo(AosFormBuilder.WireFormat, output, true);
                    return AosFormBuilder.NormalizeNewLines(Encoding.ASCII.GetString(output.GetBuffer(), 0, (int)output.Length));
                });
                fields.Add(AosFormField.Plain(field.Name, text));
            }
            else
            {
                fields.Add(field);
            }
        }

        return new AosFormContent(fields).ToArray();
    }

    /// <summary>The streamed form as HttpClient would send it (async SerializeToStreamAsync).</summary>
    private static async Task<(byte[] Bytes, long? ContentLength)> Streamed(AosPreparedSubmission prepared)
    {
        using var content = new AosFormContent(prepared.Fields);
        var length = content.Headers.ContentLength;
        var bytes = await content.ReadAsByteArrayAsync();
        return (bytes, length);
    }

    private AosMessage Message(string? body, bool html, params string[] attachments)
    {
        var message = new AosMessage { Subject = "Test", Body = body, BodyIsHtml = html };
        message.To.Add("a@x.org");
        foreach (var attachment in attachments)
        {
            message.Attachments.Add(AosAttachmentSource.FromFile(attachment));
        }

        return message;
    }

    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { "plain text with an attachment" },
        new object[] { "html" },
        new object[] { "non-ascii html" },
        new object[] { "html with bare CR and LF" },
        new object[] { "several attachments" },
        new object[] { "non-ascii file names" },
        new object[] { "attachment only" },
    };

    private AosMessage Case(string name) => name switch
    {
        "plain text with an attachment" => Message("See attached.\nBye", false, File("a.pdf", 3000, 1)),
        "html" => Message("<p>Hello</p>", true),
        "non-ascii html" => Message("<p>Grüße, 日本語 \U0001F600</p>\n<p>zweite Zeile</p>", true),
        "html with bare CR and LF" => Message("<p>a</p>\r<p>b</p>\n\n<p>c</p>\r\n", true),
        "several attachments" => Message("<b>Three files</b>", true, File("one.bin", 70_000, 2), File("two.txt", 1, 3), File("three.png", 200_001, 4)),
        "non-ascii file names" => Message("Grüße", false, File("Übersicht März.txt", 64, 5), File("報告 2024.pdf", 5000, 6)),
        "attachment only" => Message(null, false, File("only.zip", 12345, 7)),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task StreamedFormIsByteIdenticalToTheBufferedOne(string name)
    {
        var prepared = AosFormBuilder.Prepare(Case(name), AosSubmitKind.Send);
        Assert.Contains(prepared.Fields, f => f.Name == "body" && f.IsStreamed && f.Value == null);

        var reference = Buffered(prepared);
        var (bytes, length) = await Streamed(prepared);
        Assert.Equal(Encoding.ASCII.GetString(reference), Encoding.ASCII.GetString(bytes));
        Assert.Equal(reference.Length, length);
        Assert.Equal(reference.Length, AosFormContent.Measure(prepared.Fields));

        // A second send of the same submission (a retry) writes the same bytes again.
        var (again, _) = await Streamed(prepared);
        Assert.Equal(bytes, again);
    }

    [Fact]
    public void PlainBodiesStayPlainFields()
    {
        var prepared = AosFormBuilder.Prepare(Message("Grüße\nJörg", false), AosSubmitKind.Send);
        var body = prepared.Fields.Single(f => f.Name == "body");
        Assert.False(body.IsStreamed);
        Assert.Equal("Grüße\r\nJörg", body.Value);
    }

    [Fact]
    public async Task AttachmentFilesAreOpenOnlyDuringAPass()
    {
        var path = File("big.bin", 300_000, 8);
        var prepared = AosFormBuilder.Prepare(Message("x", false, path), AosSubmitKind.Send);
        AssertNotOpen(path);
        _ = await Streamed(prepared);
        AssertNotOpen(path);
    }

    private static void AssertNotOpen(string path)
    {
        // FileShare.None conflicts with any open reader (an advisory lock on Unix).
        using var exclusive = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        Assert.True(exclusive.Length > 0);
    }

#if NET // GC.GetTotalAllocatedBytes: .NET Core 3 and later
    [Fact]
    public async Task ALargeAttachmentIsNeverHeldInMemory()
    {
        const int size = 24 * 1024 * 1024;
        var path = File("large.bin", size, 9);
        var prepared = AosFormBuilder.Prepare(Message("Large", false, path), AosSubmitKind.Send);
        using var content = new AosFormContent(prepared.Fields);
        var sink = new CountingStream();

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var length = content.Headers.ContentLength;
        await content.CopyToAsync(sink);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(length, sink.Count);
        Assert.True(sink.Count > size * 4L / 3, "the form holds the base64 of the whole file");
        // Two passes over 24 MB (about 35 MB of encoded form each): buffers only, no copy.
        Assert.True(allocated < 4 * 1024 * 1024, $"allocated {allocated:N0} bytes while streaming {sink.Count:N0}");
    }
#endif

    [Fact]
    public async Task ProgressCountsEveryByteHandedToTheStream()
    {
        var path = File("p.bin", 1_000_000, 10);
        var prepared = AosFormBuilder.Prepare(Message("p", false, path), AosSubmitKind.Send);
        var totals = new List<long>();
        using var content = new AosFormContent(prepared.Fields, totals.Add);
        var sink = new CountingStream();
        await content.CopyToAsync(sink);
        Assert.True(totals.Count > 2);
        Assert.Equal(sink.Count, totals[totals.Count - 1]);
        Assert.Equal(totals.OrderBy(t => t), totals);
    }

    [Theory]
    [InlineData("a\r\nb\r\nc\r\n")]
    [InlineData("\r\n")]
    [InlineData("+/= é&*-._~!%")]
    public void EncodingStreamGivesTheSameBytesWhateverTheWriteSizes(string text)
    {
        var input = Encoding.UTF8.GetBytes(text);
        var expected = new AosFormContent(new[] { AosFormField.Plain("v", text) }).ToArray().Skip(2).ToArray();
        foreach (var piece in new[] { 1, 2, 3, input.Length })
        {
            using var output = new MemoryStream();
            using (var encoder = new AosFormEncodingStream(output))
            {
                for (int i = 0; i < input.Length; i += piece)
                {
                    encoder.Write(input, i, Math.Min(piece, input.Length - i));
                }

                encoder.Flush();
            }

            Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(output.ToArray()));
        }
    }

    /// <summary>
    /// Every byte value, over several buffer fills and with writes of every size from 1 to 17, so
    /// that a value of each width meets the buffer's end: the encoder writes 4 bytes per entry.
    /// </summary>
    [Fact]
    public void EveryByteValueIsEncodedByTheWhatwgRulesAcrossBufferEdges()
    {
        var input = new byte[256 * 97];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (byte)(i * 7 + i / 256);
        }

        var expected = new StringBuilder();
        foreach (var b in input)
        {
            bool literal = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '*' || b == '-' || b == '.' || b == '_';
            expected.Append(literal ? ((char)b).ToString() : b == ' ' ? "+" : "%" + b.ToString("X2"));
        }

        for (int piece = 1; piece <= 17; piece++)
        {
            using var output = new MemoryStream();
            using (var encoder = new AosFormEncodingStream(output))
            {
                for (int i = 0; i < input.Length; i += piece)
                {
                    encoder.Write(input, i, Math.Min(piece, input.Length - i));
                }

                encoder.Flush();
                Assert.Equal(output.Length, encoder.Written);
            }

            Assert.Equal(expected.ToString(), Encoding.ASCII.GetString(output.ToArray()));
        }
    }

    private sealed class CountingStream : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Count;
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Count += count;
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Count += count;
            return Task.CompletedTask;
        }
    }
}
