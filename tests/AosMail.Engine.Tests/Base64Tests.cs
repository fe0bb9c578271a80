using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// An attachment's base64 is written by AosBase64 and its form-encoded length counted without
/// encoding it: the text must be MimeKit's own, byte for byte, and the counted length the length
/// of what is really written, for every content length around a line's and a group's edges.
/// </summary>
public sealed class Base64Tests : IDisposable
{
    private const int Chunk = AosBase64.ChunkBytes;
    private const int CountChunk = AosBase64.CountChunkBytes;

    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>Empty, one byte, around 3-byte groups, around a 57-byte line, around the encoder's and the counter's chunks, and larger.</summary>
    public static IEnumerable<object[]> Sizes() =>
        new[] { 0, 1, 2, 3, 4, 5, 6, 7, 55, 56, 57, 58, 59, 113, 114, 115, 116, 1000, Chunk - 1, Chunk, Chunk + 1, Chunk + 57, 2 * Chunk + 2, 300_001, CountChunk - 1, CountChunk, CountChunk + 7, 2 * CountChunk, 3 * CountChunk + 2 }
            .Select(size => new object[] { size });

    /// <summary>Random bytes, and bytes that are mostly 0xFF and 0xFB (base64 '/' and '+' nearly everywhere).</summary>
    private static byte[] Content(int size, int seed, bool wide)
    {
        var bytes = new byte[size];
        var random = new Random(seed);
        random.NextBytes(bytes);
        if (wide)
        {
            for (int i = 0; i < size; i++)
            {
                bytes[i] = random.Next(8) == 0 ? bytes[i] : (i % 2 == 0 ? (byte)0xFF : (byte)0xFB);
            }
        }

        return bytes;
    }

    /// <summary>What MimeKit writes as the content of a base64 attachment part.</summary>
    private static byte[] MimeKitBase64(byte[] content)
    {
        var part = new MimePart("application", "octet-stream")
        {
            ContentTransferEncoding = ContentEncoding.Base64,
            Content = new MimeContent(new MemoryStream(content)),
        };
        using var output = new MemoryStream();
        part.WriteTo(AosFormBuilder.WireFormat, output, contentOnly: true);
        return output.ToArray();
    }

    private static byte[] FormEncoded(byte[] text)
    {
        using var output = new MemoryStream();
        using (var form = new AosFormEncodingStream(output))
        {
            form.Write(text, 0, text.Length);
            form.Flush();
        }

        return output.ToArray();
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task TheBase64IsMimeKitsByteForByte(int size)
    {
        foreach (bool wide in new[] { false, true })
        {
            var content = Content(size, size, wide);
            var expected = MimeKitBase64(content);

            using var written = new MemoryStream();
            AosBase64.Encode(new MemoryStream(content), written, CancellationToken.None);
            Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(written.ToArray()));

            // Short reads (a pipe, a network share) still give whole lines but the last.
            using var writtenAsync = new MemoryStream();
            await AosBase64.EncodeAsync(new TrickleStream(content, 1000), writtenAsync, CancellationToken.None);
            Assert.Equal(expected, writtenAsync.ToArray());
        }
    }

    /// <summary>
    /// Into a form encoder the text is form-encoded as it is made (AosBase64.FormLines): the bytes
    /// must be those of MimeKit's text through the form encoder, in place among what the form
    /// encoder holds before and gets after.
    /// </summary>
    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task IntoAFormEncoderTheTextIsMimeKitsTextFormEncoded(int size)
    {
        foreach (bool wide in new[] { false, true })
        {
            var content = Content(size, size + 2, wide);
            var before = Encoding.ASCII.GetBytes("body=");
            var after = Encoding.ASCII.GetBytes("--end");
            var expected = FormEncoded(before.Concat(MimeKitBase64(content)).Concat(after).ToArray());

            using var written = new MemoryStream();
            using (var form = new AosFormEncodingStream(written))
            {
                form.Write(before, 0, before.Length);
                AosBase64.Encode(new MemoryStream(content), form, CancellationToken.None);
                form.Write(after, 0, after.Length);
                form.Flush();
                Assert.Equal(expected.Length, form.Written);
            }

            Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(written.ToArray()));

            using var writtenAsync = new MemoryStream();
            using (var form = new AosFormEncodingStream(writtenAsync))
            {
                await form.WriteAsync(before, 0, before.Length);
                await AosBase64.EncodeAsync(new TrickleStream(content, 1000), form, CancellationToken.None);
                await form.WriteAsync(after, 0, after.Length);
                await form.FlushAsync();
            }

            Assert.Equal(expected, writtenAsync.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void TheCountedLengthIsTheLengthOfTheFormEncodedText(int size)
    {
        foreach (bool wide in new[] { false, true })
        {
            var content = Content(size, size + 1, wide);
            long expected = FormEncoded(MimeKitBase64(content)).Length;

            foreach (bool vectors in new[] { false, true })
            {
                Assert.Equal(expected, AosBase64.FormEncodedLength(new MemoryStream(content), vectors, CancellationToken.None));
                Assert.Equal(expected, AosBase64.FormEncodedLength(new TrickleStream(content, 1001), vectors, CancellationToken.None));
            }
        }
    }

    public static IEnumerable<object[]> HalvesSizes() =>
        new[] { 2 * CountChunk, 2 * CountChunk + 1, 2 * CountChunk + 2, 3 * CountChunk + 2, 5 * CountChunk + 7 }
            .Select(size => new object[] { size });

    [Theory]
    [MemberData(nameof(HalvesSizes))]
    public void CountedInHalvesTheLengthIsTheSame(int size)
    {
        foreach (bool wide in new[] { false, true })
        {
            var content = Content(size, size + 2, wide);
            long expected = FormEncoded(MimeKitBase64(content)).Length;
            var path = _files.Create("halves.bin", 0, 0);
            File.WriteAllBytes(path, content);

            foreach (bool vectors in new[] { false, true })
            {
                var readers = new List<FileStream>();
                bool onPool = true;
                using var source = File.OpenRead(path);
                long counted = AosBase64.FormEncodedLength(source, () =>
                {
                    onPool = Thread.CurrentThread.IsThreadPoolThread;
                    var reader = File.OpenRead(path);
                    readers.Add(reader);
                    return reader;
                }, vectors, splitBytes: 2 * CountChunk, CancellationToken.None);

                Assert.Equal(expected, counted);
                var second = Assert.Single(readers);
                Assert.False(second.CanRead, "The second half's reader is disposed once read.");
                Assert.False(onPool, "The second half runs on a thread of its own, never waiting for a busy pool.");
            }
        }
    }

    [Fact]
    public void ContentShorterThanTheSplitIsCountedInOnePass()
    {
        var content = Content(2 * CountChunk - 1, 3, wide: true);
        bool reopened = false;
        long counted = AosBase64.FormEncodedLength(new MemoryStream(content), () =>
        {
            reopened = true;
            return new MemoryStream(content);
        }, vectors: true, splitBytes: 2 * CountChunk, CancellationToken.None);

        Assert.Equal(FormEncoded(MimeKitBase64(content)).Length, counted);
        Assert.False(reopened);
    }

    [Fact]
    public void ASecondHalfThatCannotBeOpenedFailsTheCountWithItsOwnError()
    {
        var content = Content(4 * CountChunk, 5, wide: false);
        var unreadable = new AosContentReadException("The attachment 'x.bin' could not be read while it was being sent: gone", new IOException("gone"));

        var thrown = Assert.Throws<AosContentReadException>(() => AosBase64.FormEncodedLength(new MemoryStream(content), () => throw unreadable,
            vectors: true, splitBytes: 2 * CountChunk, CancellationToken.None));
        Assert.Same(unreadable, thrown);
    }

    [Fact]
    public void ACancelledCountStopsBothHalves()
    {
        var content = Content(8 * CountChunk, 6, wide: false);
        using var cancel = new CancellationTokenSource();
        // The first half cancels the count after its first chunk; the second half's reads wait for that.
        var first = new CancellingStream(content, cancel);
        var second = new WaitingStream(content, cancel.Token);

        Assert.ThrowsAny<OperationCanceledException>(() => AosBase64.FormEncodedLength(first, () => second,
            vectors: true, splitBytes: 2 * CountChunk, cancel.Token));
        long stoppedAt = second.Delivered;
        Assert.True(second.Disposed);
        Assert.True(stoppedAt < content.Length / 2, "The second half was not read to its end.");
        Thread.Sleep(50);
        Assert.Equal(stoppedAt, second.Delivered);
    }

    [Fact]
    public void EveryValueOfEverySixBitGroupIsCountedRight()
    {
        // Each 3-byte group holds 4 groups of 6 bits: put every value 0-63 in every position.
        var content = new byte[64 * 4 * 3];
        for (int value = 0; value < 64; value++)
        {
            for (int position = 0; position < 4; position++)
            {
                int bits = value << (6 * (3 - position));
                int at = (value * 4 + position) * 3;
                content[at] = (byte)(bits >> 16);
                content[at + 1] = (byte)(bits >> 8);
                content[at + 2] = (byte)bits;
            }
        }

        for (int size = content.Length - 7; size <= content.Length; size++)
        {
            var slice = content.Take(size).ToArray();
            long expected = FormEncoded(MimeKitBase64(slice)).Length;
            Assert.Equal(expected, AosBase64.FormEncodedLength(new MemoryStream(slice), vectors: false, CancellationToken.None));
            Assert.Equal(expected, AosBase64.FormEncodedLength(new MemoryStream(slice), vectors: true, CancellationToken.None));
        }
    }

    private AosMessage Message(params AosAttachmentSource[] attachments)
    {
        var message = new AosMessage { Subject = "Test", Body = "<p>See attached.</p>", BodyIsHtml = true };
        message.To.Add("a@x.org");
        foreach (var attachment in attachments)
        {
            message.Attachments.Add(attachment);
        }

        return message;
    }

    private static AosMimeBody Body(AosPreparedSubmission prepared) => (AosMimeBody)prepared.Fields.Single(f => f.IsStreamed).Writer!;

    /// <summary>The body field written through a form encoder into memory (the bytes really written) and into a measuring one.</summary>
    private static (long Written, long Measured) WrittenAndMeasured(AosMimeBody body)
    {
        using var memory = new MemoryStream();
        using (var form = new AosFormEncodingStream(memory))
        {
            body.WriteTo(form, CancellationToken.None);
            form.Flush();
        }

        using var measuring = new AosFormEncodingStream(Stream.Null);
        body.WriteTo(measuring, CancellationToken.None);
        measuring.Flush();
        Assert.True(measuring.Discards);
        return (memory.Length, measuring.Written);
    }

    public static IEnumerable<object[]> Forms() => new[]
    {
        new object[] { new[] { 0 } },
        new object[] { new[] { 1 } },
        new object[] { new[] { 56, 57, 58 } },
        new object[] { new[] { 0, 1, 2, 3 } },
        new object[] { new[] { Chunk + 1, 114, 70_000 } },
        // A file counted in halves (the measuring pass opens it twice).
        new object[] { new[] { (int)AosBase64.SplitBytes + 2 * CountChunk + 5, 3 } },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task AFormsMeasuredLengthIsTheLengthOfTheBytesSent(int[] sizes)
    {
        var sources = sizes.Select((size, i) => i % 2 == 0
            ? AosAttachmentSource.FromFile(_files.Create($"f{i}.bin", size, size + i))
            : AosAttachmentSource.FromBytes($"m{i}.bin", Content(size, i, wide: true))).ToArray();
        var prepared = AosFormBuilder.Prepare(Message(sources), AosSubmitKind.Send);

        var (written, measured) = WrittenAndMeasured(Body(prepared));
        Assert.Equal(written, measured);

        using var content = new AosFormContent(prepared.Fields);
        long? length = content.Headers.ContentLength;
        var sent = await content.ReadAsByteArrayAsync();
        Assert.Equal(sent.Length, length);
        Assert.Equal(sent.Length, AosFormContent.Measure(prepared.Fields));
    }

    [Fact]
    public void TheMimeBodyIsWhatMimeKitWritesForTheSameContent()
    {
        var files = new[] { 0, 1, 57, 58, Chunk + 3 }.Select((size, i) => _files.Create($"r{i}.bin", size, 40 + i)).ToArray();
        var prepared = AosFormBuilder.Prepare(Message(files.Select(f => AosAttachmentSource.FromFile(f)).ToArray()), AosSubmitKind.Send);
        var body = Body(prepared);

        using var ours = new MemoryStream();
        body.WriteTo(ours, CancellationToken.None);

        // The same entity, each attachment given to MimeKit as raw content for its own encoder.
        var reference = body.WithContent(entity =>
        {
            foreach (var part in Leaves(entity).Where(p => p.FileName != null))
            {
                part.Content = new MimeContent(new MemoryStream(File.ReadAllBytes(files.Single(f => Path.GetFileName(f) == part.FileName))));
            }

            using var output = new MemoryStream();
            entity.WriteTo(AosFormBuilder.WireFormat, output, true);
            return output.ToArray();
        });

        Assert.Equal(Encoding.ASCII.GetString(reference), Encoding.ASCII.GetString(ours.ToArray()));
    }

    private static IEnumerable<MimePart> Leaves(MimeEntity entity) =>
        entity is Multipart multipart ? multipart.SelectMany(Leaves) : entity is MimePart part ? new[] { part } : Enumerable.Empty<MimePart>();

    [Theory]
    [InlineData(1000, -10)]
    [InlineData(1000, 10)]
    // Counted in halves: shrunk into the first half, and grown.
    [InlineData((int)AosBase64.SplitBytes + 10, -5 * CountChunk)]
    [InlineData((int)AosBase64.SplitBytes + 10, 10)]
    public void AFileChangedSincePrepareIsMeasuredAsItIsRead(int size, int change)
    {
        var path = _files.Create("changing.bin", size, 7);
        var prepared = AosFormBuilder.Prepare(Message(AosAttachmentSource.FromFile(path)), AosSubmitKind.Send);
        var before = WrittenAndMeasured(Body(prepared));

        File.WriteAllBytes(path, Content(size + change, 8, wide: true));
        var (written, measured) = WrittenAndMeasured(Body(prepared));

        Assert.Equal(written, measured);
        Assert.NotEqual(before.Measured, measured);
    }

    /// <summary>Content that cancels the token once its first chunk has been read.</summary>
    private sealed class CancellingStream : MemoryStream
    {
        private readonly CancellationTokenSource _cancel;

        public CancellingStream(byte[] content, CancellationTokenSource cancel)
            : base(content)
        {
            _cancel = cancel;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Position >= CountChunk) _cancel.Cancel();
            return base.Read(buffer, offset, count);
        }
    }

    /// <summary>Content whose reads after the first wait until the token is cancelled; counts what it gave.</summary>
    private sealed class WaitingStream : MemoryStream
    {
        private readonly CancellationToken _token;

        public WaitingStream(byte[] content, CancellationToken token)
            : base(content)
        {
            _token = token;
        }

        public long Delivered { get; private set; }

        public bool Disposed { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Delivered > 0) _token.WaitHandle.WaitOne();
            int read = base.Read(buffer, offset, count);
            Delivered += read;
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    /// <summary>A stream that gives at most <c>most</c> bytes a read.</summary>
    private sealed class TrickleStream : MemoryStream
    {
        private readonly int _most;

        public TrickleStream(byte[] content, int most)
            : base(content)
        {
            _most = most;
        }

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, _most));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, _most), cancellationToken);
    }
}
