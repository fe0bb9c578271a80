using System.Text;
using AosMail.Sandbox;
using Xunit;

namespace AosMail.Sandbox.Tests;

/// <summary>
/// Each rule of the judge: a message that breaks it (the rule fires, with its severity and the
/// line), and clean messages close to the edge that break none (so a rule that fired on
/// everything would fail too).
/// </summary>
public class JudgeTests
{
    private const string Head =
        "From: demo@sandbox.test\r\n" +
        "To: bob@sandbox.test\r\n" +
        "Subject: hello\r\n" +
        "Date: Mon, 07 Dec 2026 11:36:53 +0000\r\n" +
        "Message-ID: <1764100000123.000.0a1b2c3d4e5f@sandbox.test>\r\n";

    private const string Mime = "MIME-Version: 1.0\r\n";

    private static IReadOnlyList<CheckFinding> Judge(string message) => MessageJudge.Judge(Encoding.UTF8.GetBytes(message));

    private static string Multipart(string parts, string boundary = "b1") =>
        Head + Mime + $"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\npreamble\r\n" + parts;

    /// <summary>A message that uses what the rules allow: folded fields, encoded-words in a phrase,
    /// an unstructured field and a comment, nested multiparts, quoted-printable and base64 at 76.</summary>
    public const string Clean =
        "From: =?utf-8?b?SsO2cmcgTcO8bGxlcg==?= <demo@sandbox.test>\r\n" +
        "To: \"Bob, the builder\" <bob@sandbox.test>,\r\n carol@sandbox.test\r\n" +
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= =?iso-8859-1?q?aus_M=FCnchen?= = ?\r\n" +
        "Date: Mon, 7 Dec 2026 11:36:53 +0100 (CET)\r\n" +
        "Message-ID: <1764100000123.000.0a1b2c3d4e5f@sandbox.test>\r\n" +
        "X-Priority: 3 (Normal)\r\n" +
        "MIME-Version: 1.0 (MimeKit)\r\n" +
        "Content-Type: multipart/mixed;\r\n boundary=\"=-outer:(x)?\"\r\n" +
        "\r\n" +
        "This is a multi-part message in MIME format.\r\n" +
        "--=-outer:(x)?\r\n" +
        "Content-Type: multipart/alternative; boundary=inner\r\n" +
        "\r\n" +
        "--inner\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: quoted-printable\r\n" +
        "\r\n" +
        "Gr=C3=BC=C3=9Fe, a line of seventy-six characters with a soft break at its=\r\n" +
        " end; a trailing space encoded=20\r\n" +
        "--inner\r\n" +
        "Content-Type: text/html; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: 8bit\r\n" +
        "\r\n" +
        "<p>Grüße</p>\r\n" +
        "--inner--  \r\n" +
        "--=-outer:(x)?\r\n" +
        "Content-Type: application/octet-stream; name*=utf-8''%C3%BC.bin\r\n" +
        "Content-Disposition: attachment; filename=\"a b.bin\"\r\n" +
        "Content-Transfer-Encoding: base64\r\n" +
        "\r\n" +
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\n" +
        "AAECAw==\r\n" +
        "\r\n" +
        "--=-outer:(x)?--\r\n" +
        "epilogue\r\n";

    public static TheoryData<string> CleanMessages => new()
    {
        Clean,
        Head + "\r\nhello\r\n",
        Head + "\r\n" + new string('x', 78) + "\r\n",                                    // 78: the edge of LineLong
        Head + Mime + "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n",                  // 8-bit with 8bit
        Head + "\r\nno line break at the end",
        Head,                                                                              // no body at all
        Head.Replace("Subject: hello", "Subject:\r\n =?utf-8?q?" + new string('a', 63) + "?="),  // 75: the edge
    };

    [Theory]
    [MemberData(nameof(CleanMessages))]
    public void ACleanMessageHasNoFindings(string message)
    {
        Assert.Empty(Judge(message));
    }

    public static TheoryData<string, string, long> BrokenMessages => new()
    {
        { "LineTooLong", Head + "\r\n" + new string('x', 999) + "\r\n", 7 },
        { "LineLong", Head + "\r\n" + new string('x', 79) + "\r\n", 7 },
        { "Nul", Head + "\r\na\0b\r\n", 7 },
        { "BareCr", Head + "\r\na\rb\r\n", 7 },
        { "BareLf", Head + "\r\na\nb\r\n", 7 },
        { "EightBitHeader", Head.Replace("Subject: hello", "Subject: Grüße"), 3 },
        { "EightBitBody", Head + "\r\nGrüße\r\n", 7 },
        { "EightBitBody", Head + Mime + "Content-Transfer-Encoding: 7bit\r\n\r\nGrüße\r\n", 9 },
        { "HeaderSyntax", Head + "this is not a header\r\n\r\nbody\r\n", 6 },
        { "HeaderSyntax", " starts folded\r\n" + Head + "\r\nbody\r\n", 1 },
        { "HeaderMissing", Head.Replace("Date: Mon, 07 Dec 2026 11:36:53 +0000\r\n", "") + "\r\nbody\r\n", 1 },
        { "HeaderMissing", Head.Replace("From: demo@sandbox.test\r\n", "") + "\r\nbody\r\n", 1 },
        { "HeaderDuplicate", Head + "Subject: again\r\n\r\nbody\r\n", 6 },
        { "DateSyntax", Head.Replace("Mon, 07 Dec 2026 11:36:53 +0000", "2026-12-07T11:36:53Z"), 4 },
        { "DateSyntax", Head.Replace("11:36:53", "25:36:53"), 4 },
        { "MessageIdSyntax", Head.Replace("<1764100000123.000.0a1b2c3d4e5f@sandbox.test>", "1764100000123.000@sandbox.test"), 5 },
        { "FromSyntax", Head.Replace("From: demo@sandbox.test", "From: demo"), 1 },
        { "PrioritySyntax", Head + "X-Priority: 7\r\n", 6 },
        { "EncodedWordSyntax", Head.Replace("Subject: hello", "Subject: =?utf-8?x?abc?="), 3 },
        { "EncodedWordSyntax", Head.Replace("Subject: hello", "Subject: Literal=?utf-8?q?hello?= text"), 3 },
        { "EncodedWordSyntax", Head.Replace("Subject: hello", "Subject: =?utf-8?b?abc?="), 3 },
        { "EncodedWordSyntax", Head.Replace("Subject: hello", "Subject: =?utf-8?q?a=G1?="), 3 },
        { "EncodedWordTooLong", Head.Replace("Subject: hello", "Subject: =?utf-8?q?" + new string('a', 64) + "?="), 3 },
        { "EncodedWordCharset", Head.Replace("Subject: hello", "Subject: =?no-such-charset?q?a?="), 3 },
        { "EncodedWordText", Head.Replace("Subject: hello", "Subject: =?utf-8?q?=C3?= =?utf-8?q?=BC?="), 3 },
        { "EncodedWordInQuotedString", Head.Replace("To: bob@sandbox.test", "To: \"=?utf-8?q?J=C3=B6rg?=\" <bob@sandbox.test>"), 2 },
        { "EncodedWordInQuotedString", Head + Mime + "Content-Type: application/pdf; name=\"=?utf-8?q?=C3=BC?=.pdf\"\r\n\r\nx\r\n", 7 },
        { "MimeVersionMissing", Head + "Content-Type: text/plain\r\n\r\nbody\r\n", 6 },
        { "MimeVersionSyntax", Head + "MIME-Version: 2.0\r\n\r\nbody\r\n", 6 },
        { "ContentTypeSyntax", Head + Mime + "Content-Type: text\r\n\r\nbody\r\n", 7 },
        { "ContentTypeSyntax", Head + Mime + "Content-Type: text/plain; charset\r\n\r\nbody\r\n", 7 },
        { "ContentTypeSyntax", Head + Mime + "Content-Type: text/plain; charset=utf-8; charset=ascii\r\n\r\nbody\r\n", 7 },
        { "ContentTypeSyntax", Head + Mime + "Content-Type: text/plain; name=a b\r\n\r\nbody\r\n", 7 },
        { "TransferEncodingUnknown", Head + Mime + "Content-Transfer-Encoding: uuencode\r\n\r\nbody\r\n", 7 },
        { "MultipartEncoding", Head + Mime + "Content-Type: multipart/mixed; boundary=b1\r\nContent-Transfer-Encoding: base64\r\n\r\n--b1\r\n\r\nx\r\n--b1--\r\n", 8 },
        { "MultipartBoundaryMissing", Head + Mime + "Content-Type: multipart/mixed\r\n\r\nbody\r\n", 7 },
        { "BoundarySyntax", Head + Mime + $"Content-Type: multipart/mixed; boundary={new string('b', 71)}\r\n\r\nbody\r\n", 7 },
        { "BoundarySyntax", Head + Mime + "Content-Type: multipart/mixed; boundary=\"a;b\"\r\n\r\nbody\r\n", 7 },
        { "MultipartNotClosed", Multipart("--b1\r\n\r\nx\r\n"), 7 },
        { "MultipartNotClosed", Multipart("--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\nx\r\n--b1--\r\n"), 11 },
        { "MultipartEmpty", Multipart("--b1--\r\n"), 7 },
        { "Base64LineLength", Multipart("--b1\r\nContent-Transfer-Encoding: base64\r\n\r\n" + new string('A', 80) + "\r\n--b1--\r\n"), 13 },
        { "Base64Alphabet", Multipart("--b1\r\nContent-Transfer-Encoding: base64\r\n\r\nAA*A\r\n--b1--\r\n"), 13 },
        { "Base64Alphabet", Multipart("--b1\r\nContent-Transfer-Encoding: base64\r\n\r\nAA==\r\nAAAA\r\n--b1--\r\n"), 14 },
        { "QuotedPrintableLineLength", Multipart("--b1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + new string('a', 77) + "\r\n--b1--\r\n"), 13 },
        { "QuotedPrintableSyntax", Multipart("--b1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=G1\r\n--b1--\r\n"), 13 },
        { "QuotedPrintableSyntax", Multipart("--b1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nends in a space \r\n--b1--\r\n"), 13 },
        { "QuotedPrintableSyntax", Multipart("--b1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbell\a\r\n--b1--\r\n"), 13 },
    };

    [Theory]
    [MemberData(nameof(BrokenMessages))]
    public void EachRuleFindsWhatBreaksIt(string rule, string message, long line)
    {
        var findings = Judge(message);
        var finding = Assert.Single(findings, f => f.Rule == rule);
        Assert.Equal(line, finding.Line);
        Assert.Equal(MessageJudge.Rules.Single(r => r.Id == rule).Severity, finding.Severity);
    }

    [Fact]
    public void EveryRuleHasAMessageThatBreaksIt()
    {
        var tested = BrokenMessages.Select(row => (string)row[0]).ToHashSet();
        var untested = MessageJudge.Rules.Select(r => r.Id).Except(tested);
        Assert.Empty(untested);
    }

    [Fact]
    public void LineLengthsAndSeveritiesAreTheRfcFigures()
    {
        Assert.Equal(998, MessageJudge.MaxLineOctets);
        Assert.Equal(78, MessageJudge.RecommendedLineOctets);
        Assert.Equal(76, MessageJudge.MaxEncodedLineChars);
        Assert.Equal(75, MessageJudge.MaxEncodedWordChars);
        Assert.Equal(MessageJudge.Error, MessageJudge.Rules.Single(r => r.Id == "LineTooLong").Severity);
        Assert.Equal(new[] { "LineLong" }, MessageJudge.Rules.Where(r => r.Severity == MessageJudge.Warning).Select(r => r.Id));
    }

    [Fact]
    public void ARuleBrokenOnManyLinesIsOneFindingWithTheFirstLineAndACount()
    {
        var body = string.Concat(Enumerable.Repeat(new string('x', 1200) + "\r\n", 1000));
        var finding = Assert.Single(Judge(Head + "\r\n" + body));
        Assert.Equal(("LineTooLong", 7L, 1000L), (finding.Rule, finding.Line, finding.Count));
    }

    [Fact]
    public void AStreamReadInPiecesGivesTheSameFindings()
    {
        // Line ends, NULs and CRs split across reads: one byte at a time.
        var message = Head + "\r\na\rb\nc\0d\r\n" + new string('y', 1000) + "\r\r\n";
        var whole = Judge(message);
        var pieces = MessageJudge.Judge(new OneByteStream(Encoding.UTF8.GetBytes(message)));
        Assert.Equal(whole, pieces);
        Assert.Equal(new[] { "BareCr", "BareLf", "Nul", "LineTooLong" }, whole.Select(f => f.Rule));
        Assert.Equal(2, whole[0].Count);
    }

    private sealed class OneByteStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
    }
}
