using System.Text;
using Xunit;

namespace AosMail.Engine.Tests;

public class AnswerTests
{
    [Theory]
    [InlineData("SID78889x23736345h80")]
    [InlineData("SIDabcd")]
    [InlineData("  SID78889x23736345h80\r\n")]
    [InlineData("SID1234567890123456789012345678901234567890123456789012345678901")] // 61 after SID
    public void SessionIdsAreAccepted(string answer) => Assert.True(AosAnswer.IsSessionId(answer));

    [Theory]
    [InlineData("SIDabc")]
    [InlineData("SID12345678901234567890123456789012345678901234567890123456789012")] // 62 after SID
    [InlineData("sid78889x23736345h80")]
    [InlineData("SID7888-9x23")]
    [InlineData("SID78889x23\nSID78889x24")]
    [InlineData("SIDabcdé")]
    [InlineData("false")]
    [InlineData("false\nBad password")]
    [InlineData("<html>SID78889x23736345h80</html>")]
    [InlineData("")]
    public void OtherAnswersAreNotSessionIds(string answer) => Assert.False(AosAnswer.IsSessionId(answer));

    [Theory]
    [InlineData("OK", true)]
    [InlineData("ok", true)]
    [InlineData(" Ok \r\n", true)]
    [InlineData("OK.", false)]
    [InlineData("NOT OK", false)]
    [InlineData("false", false)]
    [InlineData("", false)]
    public void OkInAnyCase(string answer, bool expected) => Assert.Equal(expected, AosAnswer.IsOk(answer));

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE\r\n", true)]
    [InlineData("true\nmore", false)]
    [InlineData("false", false)]
    public void TrueInAnyCase(string answer, bool expected) => Assert.Equal(expected, AosAnswer.IsTrue(answer));

    [Theory]
    [InlineData("false", true)]
    [InlineData("\r\nFALSE\r\nreason", true)]
    [InlineData("false reason", false)]
    [InlineData("OK", false)]
    public void FalseIsTheFirstLine(string answer, bool expected) => Assert.Equal(expected, AosAnswer.IsFalse(answer));

    [Theory]
    [InlineData("false\nInvalid recipient: x@y\n", "Invalid recipient: x@y")]
    [InlineData("false\r\n\r\n  Quota   exceeded\t now ", "Quota exceeded now")]
    [InlineData("false", "false")]
    [InlineData("Bad password", "Bad password")]
    [InlineData("<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>", "404 Not Found")]
    [InlineData("<html><body><p>Error: <b>mailbox</b> full</p></body></html>", "Error: mailbox full")]
    [InlineData("<script>var sid='x';</script>Hello", "Hello")]
    [InlineData("a &lt;b&gt; &amp; c", "a <b> & c")]
    [InlineData("Session SID78889x23736345h80 expired", "Session SID\u2026 expired")]
    [InlineData("false\nSIDabcd1234 is dead", "SID\u2026 is dead")]
    [InlineData("", "")]
    [InlineData(" \r\n ", "")]
    public void ServerTextIsTheFirstLineOfText(string answer, string expected) => Assert.Equal(expected, AosAnswer.ServerText(answer));

    [Fact]
    public void ServerTextIsCappedAt300Characters()
    {
        var text = AosAnswer.ServerText(new string('a', 400));
        Assert.Equal(300, text.Length);
        Assert.Equal(new string('a', 299) + "\u2026", text);
        Assert.Equal(new string('b', 300), AosAnswer.ServerText(new string('b', 300)));
    }

    [Fact]
    public void ServerTextMasksASidBeforeCapping()
    {
        var text = AosAnswer.ServerText(new string('a', 295) + " SID78889x23736345h80");
        Assert.Equal(new string('a', 295) + " SID\u2026", text);
    }

    [Fact]
    public void QuoteNamesAnEmptyAnswer()
    {
        Assert.Equal("an empty answer", AosAnswer.Quote(""));
        Assert.Equal("\"Bad password\"", AosAnswer.Quote("false\nBad password"));
    }

    [Fact]
    public void AnswersAreDecodedAsUtf8WithoutBom()
    {
        Assert.Equal("Grüße", AosAnswer.Decode(new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("Grüße"))));
        Assert.Equal("a\uFFFDb", AosAnswer.Decode(new byte[] { (byte)'a', 0xFF, (byte)'b' }));
    }
}

internal static class ByteArrayExtensions
{
    public static byte[] Concat(this byte[] first, byte[] second)
    {
        var result = new byte[first.Length + second.Length];
        first.CopyTo(result, 0);
        second.CopyTo(result, first.Length);
        return result;
    }
}
