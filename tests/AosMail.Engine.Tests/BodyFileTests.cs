using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// A -BodyPath file is streamed (<see cref="AosBodyFile"/>), never read into one string: these
/// tests hold it to the bytes of the same text given as -Body, byte for byte, and to the checks
/// a body in memory gets.
/// </summary>
public sealed class BodyFileTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_files.Folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static AosMessage Message(bool html)
    {
        var message = new AosMessage { Subject = "Body", BodyIsHtml = html };
        message.To.Add("a@x.org");
        return message;
    }

    private static byte[] Utf8(string text) => new UTF8Encoding(false).GetBytes(text);

    private static string LongLine(int length) => string.Concat(Enumerable.Range(0, length).Select(i => (char)('a' + i % 26)));

    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { "ascii, short lines", Utf8("Hello,\r\nshort lines only.\r\n"), null!, false },
        new object[] { "ascii, no line end", Utf8("one line"), null!, false },
        new object[] { "non-ASCII", Utf8("Grüße aus Köln, 東京 and 😀\nsecond line\n"), null!, false },
        new object[] { "a long line", Utf8("short\n" + LongLine(300) + "\nend\n"), null!, false },
        new object[] { "a long non-ASCII line", Utf8(string.Concat(Enumerable.Repeat("é", 200)) + "\r\n"), null!, false },
        new object[] { "a NUL", Utf8("before\0after\r\n"), null!, false },
        new object[] { "a control character", Utf8("bell\u0007here\r\n"), null!, false },
        new object[] { "CR-only line ends", Utf8("one\rtwo\rthree\r"), null!, false },
        new object[] { "LF-only line ends", Utf8("one\ntwo\nthree\n"), null!, false },
        new object[] { "mixed line ends, CR before LF split", Utf8("a\r\n\n\r\r\nb\n\r"), null!, false },
        new object[] { "a UTF-8 BOM", new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Utf8("with a BOM ä\n")).ToArray(), null!, false },
        new object[] { "only a BOM", new byte[] { 0xEF, 0xBB, 0xBF }, null!, false },
        new object[] { "UTF-16 with -Encoding Unicode", Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("UTF-16 text ü\r\n€ line two\n")).ToArray(), "utf-16", false },
        new object[] { "UTF-16 without a BOM", Encoding.Unicode.GetBytes("no BOM ü\n" + LongLine(100)), "utf-16", false },
        new object[] { "Latin-1", Encoding.GetEncoding("iso-8859-1").GetBytes("caf\u00e9 cr\u00e8me\n"), "iso-8859-1", false },
        new object[] { "invalid UTF-8", new byte[] { 0x41, 0xC3, 0x28, 0xFF, 0x0A, 0x42 }, null!, false },
        new object[] { "HTML", Utf8("<html><body><p>Hello</p>\n<p>wörld</p></body></html>\n"), null!, true },
        new object[] { "HTML with a long line", Utf8("<html><body>" + LongLine(2000) + "</body></html>\r\n"), null!, true },
        new object[] { "From at a line start", Utf8("hi\nFrom me\n" + LongLine(90) + "\n"), null!, false },
        new object[] { "empty", Array.Empty<byte>(), null!, false },
        // Bigger than the reader's blocks, a CRLF and a surrogate pair on every block edge somewhere.
        new object[] { "blocks", Utf8(string.Concat(Enumerable.Range(0, 9000).Select(i => i % 7 == 0 ? "x\r\n" : i % 5 == 0 ? "😀" : "abcd"))), null!, false },
        new object[] { "blocks, long lines", Utf8(string.Concat(Enumerable.Range(0, 3000).Select(i => i % 97 == 0 ? "\r" : "é" + LongLine(i % 31)))), null!, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AFileIsSentAsTheSameBytesAsItsTextGivenAsBody(string name, byte[] bytes, string? encoding, bool html)
    {
        var path = Write("body.txt", bytes);
        var fromFile = Message(html);
        fromFile.BodyPath = path;
        fromFile.BodyEncoding = encoding == null ? null : Encoding.GetEncoding(encoding);
        var inMemory = Message(html);
        using (var reader = new StreamReader(path, fromFile.BodyEncoding ?? new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true))
        {
            inMemory.Body = reader.ReadToEnd();
        }

        var expected = new AosFormContent(AosFormBuilder.Prepare(inMemory, AosSubmitKind.Send).Fields).ToArray();
        var prepared = AosFormBuilder.Prepare(fromFile, AosSubmitKind.Send);
        Assert.True(inMemory.Body.Length == 0 || prepared.Fields.Single(f => f.Name == AosProtocol.FieldBody).IsStreamed, name);

        // The sending pass (strict, asynchronous) and the measuring pass agree with the body in memory.
        using var content = new AosFormContent(prepared.Fields);
        long? length = content.Headers.ContentLength;
        var sent = await content.ReadAsByteArrayAsync();
        Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(sent));
        Assert.Equal(expected.Length, length);
    }

#if !NETFRAMEWORK
    [Fact]
    public void TheBodyFileIsStreamedNotHeld()
    {
        // 8 MB of long lines: a quoted-printable text part, whose content is never a string.
        var path = Write("big.txt", Utf8(string.Concat(Enumerable.Repeat(LongLine(1000) + "\n", 8 * 1024))));
        var message = Message(false);
        message.BodyPath = path;

        long before = GC.GetAllocatedBytesForCurrentThread();
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        long measured = AosFormContent.Measure(prepared.Fields);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("Content-Transfer-Encoding: quoted-printable", prepared.Fields.Single(f => f.Name == AosProtocol.FieldHeader).Value);
        Assert.True(measured > 8 * 1024 * 1024);
        Assert.True(allocated < 2 * 1024 * 1024, $"preparing and measuring allocated {allocated} bytes");
    }
#endif

    [Theory]
    [InlineData("plain", false)]
    [InlineData("long lines", true)]
    public async Task AFileChangedSincePreparedCutsTheRequest(string name, bool longLines)
    {
        var text = (longLines ? LongLine(200) : "short") + "\nsame length\n";
        var path = Write(name + ".txt", Utf8(text));
        var message = Message(false);
        message.BodyPath = path;
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);

        // Same length, other bytes: only the text's hash can tell.
        File.WriteAllBytes(path, Utf8(text.Replace("same", "SAME")));
        using var content = new AosFormContent(prepared.Fields);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => content.ReadAsByteArrayAsync());
        var changed = Assert.IsType<AosContentChangedException>(Find<AosContentChangedException>(error));
        Assert.Contains($"The body file '{path}' changed", changed.Message);

        // Longer: the file's length tells at once.
        File.WriteAllBytes(path, Utf8(text + "more"));
        using var grown = new AosFormContent(prepared.Fields);
        error = await Assert.ThrowsAnyAsync<Exception>(() => grown.ReadAsByteArrayAsync());
        Assert.Contains($"The body file '{path}' grew", Find<AosContentChangedException>(error)!.Message);
    }

    [Fact]
    public async Task AFileGoneSincePreparedIsUnreadable()
    {
        var path = Write("gone.txt", Utf8("text\n"));
        var message = Message(false);
        message.BodyPath = path;
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        File.Delete(path);

        using var content = new AosFormContent(prepared.Fields);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => content.ReadAsByteArrayAsync());
        Assert.Contains($"The body file '{path}' could not be read", Find<AosContentReadException>(error)!.Message);
    }

    private static T? Find<T>(Exception? e)
        where T : Exception
    {
        for (; e != null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    [Theory]
    [InlineData("<img src=\"cid:logo\">", true)]
    [InlineData("<img src=\"cid:other\">", false)]
    [InlineData("ticket CID:other is fine", true)]
    public void AnHtmlFilesContentIdsAreChecked(string html, bool valid)
    {
        var path = Write("page.html", Utf8("<html><body>" + html + "</body></html>"));
        var message = Message(true);
        message.BodyPath = path;
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>("logo", AosAttachmentSource.FromBytes("logo.png", new byte[] { 1, 2, 3 })));
        if (valid)
        {
            var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
            Assert.Equal(html.Contains("cid:logo") ? 0 : 1, prepared.Warnings.Count);
        }
        else
        {
            var error = Assert.Throws<AosException>(() => AosFormBuilder.Prepare(message, AosSubmitKind.Send));
            Assert.Equal(AosErrorIds.MissingInlineAttachment, error.ErrorId);
        }
    }

    [Fact]
    public void AnAttachmentErrorComesBeforeAMissingContentIdAsForABodyInMemory()
    {
        const string html = "<img src=\"cid:missing\">";
        var path = Write("order.html", Utf8(html));
        foreach (var fromFile in new[] { true, false })
        {
            var message = Message(true);
            message.BodyPath = fromFile ? path : null;
            message.Body = fromFile ? null : html;
            message.Attachments.Add(AosAttachmentSource.FromFile(Path.Combine(_files.Folder, "nosuch.bin")));
            Assert.Equal(AosErrorIds.AttachmentNotFound, Assert.Throws<AosException>(() => AosFormBuilder.Prepare(message, AosSubmitKind.Send)).ErrorId);
            message.Attachments.Clear();
            Assert.Equal(AosErrorIds.MissingInlineAttachment, Assert.Throws<AosException>(() => AosFormBuilder.Prepare(message, AosSubmitKind.Send)).ErrorId);
        }
    }

    /// <summary>The rule the scan implements, as a regular expression: an independent reference.</summary>
    private static readonly Regex Reference = new("(?<=[\"'=(]\\s*)cid:([^\"'\\s)>]+)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    [Fact]
    public void TheContentIdScanFindsWhatTheRegexFinds()
    {
        var samples = new List<string>
        {
            "<img src=\"cid:a\">", "<img src='cid:b'>", "url(cid:c)", "url( \r\n CID:d )", "src=cid:e>", "src = \"Cid:f%20g\"",
            "ticket cid:x", "\"cid:\"cid:h", "\"ccid:i", "'cid:cid:j'", "(cid:k", "=\u00a0cid:l\u2028", "\"cid", "\"ci", "=cid:m\"=cid:n",
        };
        var random = new Random(7);
        const string alphabet = "cidCID:\"'=()> \r\n\tx%2";
        for (int i = 0; i < 5000; i++)
        {
            samples.Add(new string(Enumerable.Range(0, random.Next(1, 24)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray()));
        }

        foreach (var sample in samples)
        {
            var expected = Reference.Matches(sample).Cast<Match>().Select(m => Uri.UnescapeDataString(m.Groups[1].Value)).ToList();
            var found = new List<string>();
            var scan = new AosContentIdScan(found.Add);
            // In pieces of every size, as a file is read.
            int piece = 1 + sample.Length % 5;
            for (int at = 0; at < sample.Length; at += piece)
            {
                scan.Add(sample.ToCharArray(), at, Math.Min(piece, sample.Length - at));
            }

            scan.End();
            Assert.True(expected.SequenceEqual(found), $"'{sample}': expected [{string.Join("|", expected)}], found [{string.Join("|", found)}]");
        }
    }

    [Theory]
    [InlineData("line one\nline two\n", "line one\r\nline two", true)]
    [InlineData("line one\r\nline two\n \t\n", "line one\nline two\n\n", true)]
    [InlineData("line one\nline two", "line one\r\nline two\r\nmore", false)]
    [InlineData("line one\nline two x", "line one\r\nline two", false)]
    [InlineData("line one\nline twp", "line one\r\nline two", false)]
    public void DraftDiscoveryComparesAFilesTextAsItReadsIt(string file, string stored, bool same)
    {
        var path = Write("draft.txt", Utf8(file));
        var message = Message(false);
        message.BodyPath = path;
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.SaveDraft);
        Assert.True(prepared.Fields.Single(f => f.Name == AosProtocol.FieldBody).IsStreamed);
        var raw = Encoding.UTF8.GetBytes("To: a@x.org\r\nSubject: Body\r\n\r\n" + stored);
        Assert.Equal(same, AosConnection.MatchesPosted(raw, prepared.Fields));
    }

    [Theory]
    [InlineData(100, false)]
    [InlineData(2 * 1024 * 1024, true)]
    public void AFileBodyMayReportProgressOnlyWhenItCouldEncodeThatLarge(int size, bool expected)
    {
        var message = Message(false);
        message.BodyPath = Write("progress.txt", Utf8(string.Concat(Enumerable.Repeat("0123456789\n", size / 11))));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.True(prepared.Fields.Single(f => f.Name == AosProtocol.FieldBody).IsStreamed);
        Assert.Equal(expected, prepared.MayReportProgress);
    }

    [Fact]
    public void VerboseNamesTheBodyFilesSizeNotItsText()
    {
        var path = Write("secret.txt", Utf8("confidential\n"));
        var message = Message(false);
        message.BodyPath = path;
        var described = AosConnection.DescribeFields(AosFormBuilder.Prepare(message, AosSubmitKind.Send).Fields);
        Assert.Contains("body [14 bytes, streamed from the body file]", described);
        Assert.DoesNotContain("confidential", described);
    }
}
