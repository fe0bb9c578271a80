using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// Mail that relays accept (docs/aos-protocol.md B7, B8, B10): plain bodies with long lines or
/// control characters go as MIME text parts, subjects and header values as encoded-words of at
/// most 75 characters, header lines folded to 78. Each case is judged by Python's email package,
/// a parser that is not the MimeKit writer the module uses: the decoded content equals the input.
/// </summary>
public class WireTextTests
{
    private static AosMessage Message()
    {
        var message = new AosMessage();
        message.To.Add("a@x.org");
        return message;
    }

    private static AosPreparedSubmission Prepare(AosMessage message) => AosFormBuilder.Prepare(message, AosSubmitKind.Send);

    private static string? Field(AosPreparedSubmission prepared, string name) => prepared.Fields.SingleOrDefault(f => f.Name == name)?.Materialize();

    private static readonly string GermanSubject = string.Concat(Enumerable.Repeat("Größenänderung der Übersicht für Kunden – ", 7)).Substring(0, 275);

    // ---- the encoding rules themselves ----

    [Fact]
    public void PrintableAsciiHeaderTextGoesAsItIs()
    {
        Assert.Equal("Report =? for Q3 (final)", AosWireText.HeaderText("Report =? for Q3 (final)"));
        Assert.Equal("a\tb", AosWireText.HeaderText("a\tb"));
    }

    [Theory]
    [InlineData("Literal =?utf-8?q?hello?= text")]
    [InlineData("x=?a?=y")]
    [InlineData("Grüße")]
    [InlineData("emoji \U0001F600 and 日本")]
    public void TextADecoderWouldChangeIsEncodedWords(string text)
    {
        var encoded = AosWireText.HeaderText(text);
        Assert.Matches("^=\\?utf-8\\?b\\?[A-Za-z0-9+/=]+\\?=( =\\?utf-8\\?b\\?[A-Za-z0-9+/=]+\\?=)*$", encoded);
        Assert.Equal(text, MimeKit.Utils.Rfc2047.DecodeText(Encoding.ASCII.GetBytes(encoded)));
    }

    [Fact]
    public void EncodedWordsHoldAtMost75CharactersAndWholeCharacters()
    {
        var text = string.Concat(Enumerable.Repeat("ü\U0001F600日", 60));
        var words = AosWireText.HeaderText(text).Split(' ');
        Assert.True(words.Length > 1);
        Assert.All(words, w => Assert.InRange(w.Length, 13, AosProtocol.MaxEncodedWordLength));
        // Each word decodes on its own to whole characters (RFC 2047 5): no U+FFFD from a split sequence.
        Assert.Equal(text, string.Concat(words.Select(w => MimeKit.Utils.Rfc2047.DecodeText(Encoding.ASCII.GetBytes(w)))));
        Assert.DoesNotContain(words, w => MimeKit.Utils.Rfc2047.DecodeText(Encoding.ASCII.GetBytes(w)).Contains('\uFFFD'));
    }

    [Fact]
    public void AHeaderLineIsFoldedAtWhitespaceTo78()
    {
        var value = string.Concat(Enumerable.Repeat("word ", 250));
        var line = "X-Long: " + value;
        var folded = AosWireText.FoldedHeaderLine("X-Long", value)!;
        var lines = folded.Split("\r\n");
        Assert.True(lines.Length > 10);
        Assert.All(lines, l => Assert.InRange(l.Length, 1, AosProtocol.RecommendedLineLength));
        Assert.All(lines.Skip(1), l => Assert.Equal(' ', l[0]));
        Assert.All(lines, l => Assert.False(string.IsNullOrWhiteSpace(l), "no line of whitespace only"));
        Assert.Equal(line, folded.Replace("\r\n", ""));
    }

    [Fact]
    public void AShortLineIsNotFolded() =>
        Assert.Equal("X-A: one two", AosWireText.FoldedHeaderLine("X-A", "one two"));

    [Fact]
    public void ALongWordFoldsAtTheNearestWhitespaceAndMayExceed78()
    {
        var word = new string('x', 200);
        var folded = AosWireText.FoldedHeaderLine("X-Id", "a " + word + " tail")!;
        Assert.Equal(new[] { "X-Id: a", " " + word, " tail" }, folded.Split("\r\n"));
        // Never before the first word: "X-Id:" alone would make parsers keep the space.
        Assert.Equal("X-Id: " + word, AosWireText.FoldedHeaderLine("X-Id", word));
    }

    [Fact]
    public void AWordThatCannotFitIn998IsNull()
    {
        Assert.Null(AosWireText.FoldedHeaderLine("X-Id", new string('x', 993)));
        Assert.NotNull(AosWireText.FoldedHeaderLine("X-Id", new string('x', 992)));
        Assert.NotNull(AosWireText.FoldedHeaderLine("X-Id", "a " + new string('x', 997)));
        Assert.Null(AosWireText.FoldedHeaderLine("X-Id", "a " + new string('x', 998)));
    }

    [Fact]
    public void TrailingWhitespaceIsNeverALineOfItsOwn()
    {
        var value = new string('a', 70) + " b" + new string(' ', 100);
        var line = "X-A: " + value;
        var folded = AosWireText.FoldedHeaderLine("X-A", value)!;
        Assert.Equal(line, folded.Replace("\r\n", ""));
        Assert.All(folded.Split("\r\n"), l => Assert.False(string.IsNullOrWhiteSpace(l)));
    }

    [Theory]
    [InlineData("short line\r\nanother", false)]
    [InlineData("tab\tis fine", false)]
    [InlineData("nul\0here", true)]
    [InlineData("bel\u0007here", true)]
    [InlineData("esc\u001b[31m", true)]
    [InlineData("del\u007f", true)]
    public void ControlCharactersOtherThanTabCrLfNeedATransferEncoding(string body, bool needs) =>
        Assert.Equal(needs, AosWireText.PlainBodyNeedsTransferEncoding(body));

    [Fact]
    public void A78OctetLineIsFineAnd79IsNot()
    {
        Assert.False(AosWireText.PlainBodyNeedsTransferEncoding(new string('a', 78) + "\r\n" + new string('b', 78)));
        Assert.True(AosWireText.PlainBodyNeedsTransferEncoding("a\r\n" + new string('b', 79)));
        // Octets, not characters: 39 x 'ü' is 78 octets, 40 is 80.
        Assert.False(AosWireText.PlainBodyNeedsTransferEncoding(new string('ü', 39)));
        Assert.True(AosWireText.PlainBodyNeedsTransferEncoding(new string('ü', 40)));
    }

    // ---- the form: what goes out ----

    [Fact]
    public void AShortLineAsciiBodyStaysExactlyAsToday()
    {
        var message = Message();
        message.Body = "Hello\nsecond line";
        var prepared = Prepare(message);
        Assert.Equal("Hello\r\nsecond line", Field(prepared, "body"));
        Assert.Null(Field(prepared, "mheader"));
        Assert.DoesNotContain(prepared.Fields, f => f.IsStreamed);
    }

    [Fact]
    public void ALongLineBodyIsAQuotedPrintableTextPartAfterTheUsersHeaders()
    {
        var message = Message();
        message.Body = new string('a', 2000);
        message.Headers.Add(new KeyValuePair<string, string>("X-A", "1"));
        var prepared = Prepare(message);
        Assert.Contains(prepared.Fields, f => f.Name == "body" && f.IsStreamed);
        Assert.Equal("X-A: 1\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable", Field(prepared, "mheader"));
        Assert.All(Field(prepared, "body")!.Split("\r\n"), l => Assert.InRange(l.Length, 0, AosProtocol.RecommendedLineLength));
    }

    [Fact]
    public void ADraftWithALongLineBodyIsAMimeTextPartToo()
    {
        var message = new AosMessage { Body = new string('a', 100) };
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.SaveDraft);
        Assert.Contains(prepared.Fields, f => f.Name == "body" && f.IsStreamed);
    }

#if NET
    // ---- every row of issue 21's table, judged by Python ----

    private static void AssertWithinLimits(PythonEmail parsed, int headerLines)
    {
        Assert.Empty(parsed.Defects);
        Assert.False(parsed.HasNul, "no raw NUL");
        Assert.False(parsed.HasBareLineFeed, "CRLF only");
        Assert.All(parsed.LineLengths, n => Assert.InRange(n, 0, AosProtocol.MaxHeaderLineLength));
        // Every line but the subject's (one line by the protocol, B7) within 78.
        Assert.All(parsed.LineLengths.Skip(headerLines), n => Assert.InRange(n, 0, AosProtocol.RecommendedLineLength));
    }

    [Theory]
    [InlineData("ascii", 2000)]
    [InlineData("umlaut", 1200)]
    public void APlainBodyWithOneLongLineDecodesToTheInput(string kind, int count)
    {
        var message = Message();
        message.Subject = "s";
        message.Body = new string(kind == "ascii" ? 'x' : 'ü', count) + "\nshort second line";
        var parsed = PythonEmail.Parse(Prepare(message));
        AssertWithinLimits(parsed, 3);
        Assert.Equal(message.Body, parsed.Body!.TrimEnd('\n'));
    }

    [Fact]
    public void APlainBodyWithNulAndBelIsEncodedAndDecodesToTheInput()
    {
        var message = Message();
        message.Body = "before\0after\u0007bell";
        var prepared = Prepare(message);
        Assert.DoesNotContain('\0', Field(prepared, "body")!);
        var parsed = PythonEmail.Parse(prepared);
        AssertWithinLimits(parsed, 2);
        Assert.Equal(message.Body, parsed.Body!.TrimEnd('\n'));
    }

    [Fact]
    public void ALongHeaderValueIsFoldedAndDecodesToTheInput()
    {
        var message = Message();
        var value = string.Concat(Enumerable.Repeat("word ", 250)).TrimEnd();
        message.Headers.Add(new KeyValuePair<string, string>("X-Long", value));
        var parsed = PythonEmail.Parse(Prepare(message));
        AssertWithinLimits(parsed, 2);
        Assert.Equal(new[] { value }, parsed.Header("X-Long"));
    }

    [Fact]
    public void ALongNonAsciiHeaderValueIsEncodedWordsFoldedAndDecodesToTheInput()
    {
        var message = Message();
        message.Headers.Add(new KeyValuePair<string, string>("X-Note", GermanSubject));
        var prepared = Prepare(message);
        var parsed = PythonEmail.Parse(prepared);
        AssertWithinLimits(parsed, 2);
        Assert.Equal(new[] { GermanSubject }, parsed.Header("X-Note"));
    }

    [Fact]
    public void ALongGermanSubjectIsEncodedWordsOfAtMost75OnOneLine()
    {
        var message = Message();
        message.Subject = GermanSubject;
        var msub = Field(Prepare(message), "msub")!;
        Assert.DoesNotContain("\r", msub);
        Assert.DoesNotContain("\n", msub);
        Assert.All(msub.Split(' '), w => Assert.InRange(w.Length, 13, AosProtocol.MaxEncodedWordLength));
        var parsed = PythonEmail.Parse(Prepare(message));
        AssertWithinLimits(parsed, 3);
        Assert.Equal(GermanSubject, parsed.Subject);
    }

    [Theory]
    [InlineData("Literal =?utf-8?q?hello?= text")]
    [InlineData("=?iso-8859-1?q?a?= =?iso-8859-1?q?b?=")]
    [InlineData("Report =? for Q3 (final)")]
    public void AnAsciiSubjectThatLooksEncodedDecodesToItself(string subject)
    {
        var message = Message();
        message.Subject = subject;
        message.Headers.Add(new KeyValuePair<string, string>("X-Same", subject));
        var parsed = PythonEmail.Parse(Prepare(message));
        Assert.Equal(subject, parsed.Subject);
        Assert.Equal(new[] { subject }, parsed.Header("X-Same"));
    }
#endif

    // ---- refused before the wire ----

    [Fact]
    public void AHeaderValueWithAWordTooLongFor998IsRefused()
    {
        var message = Message();
        var value = "token " + new string('x', 1000);
        message.Headers.Add(new KeyValuePair<string, string>("X-Token", value));
        var error = Assert.Throws<AosException>(() => Prepare(message));
        Assert.Equal(AosErrorIds.InvalidHeaderValue, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
        Assert.Equal(value, error.Target);
        Assert.Contains("X-Token", error.Message);
        Assert.Contains("998", error.Message);
    }
}
