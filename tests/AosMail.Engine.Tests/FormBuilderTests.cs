using System.Collections.Generic;
using System.Linq;
using System.Text;
using MimeKit;
using MimeKit.Utils;
using Xunit;

namespace AosMail.Engine.Tests;

public class FormBuilderTests
{
    private static AosMessage Message(params string[] to)
    {
        var message = new AosMessage();
        foreach (var address in to)
        {
            message.To.Add(address);
        }

        return message;
    }

    private static string Names(AosPreparedSubmission prepared) => string.Join(",", prepared.Fields.Select(f => f.Name));

    private static string Field(AosPreparedSubmission prepared, string name) => prepared.Fields.Single(f => f.Name == name).Materialize();

    /// <summary>The fields as name/value pairs, streamed values materialized.</summary>
    private static KeyValuePair<string, string>[] Pairs(AosPreparedSubmission prepared) =>
        prepared.Fields.Select(f => KeyValuePair.Create(f.Name, f.Materialize())).ToArray();

    // ---- progress eligibility: no false "cannot report" ----

    [Fact]
    public void SmallPlainMessageCannotReportProgress()
    {
        var message = Message("a@x.org");
        message.Subject = "Report";
        message.Body = "A short body.";
        Assert.False(AosFormBuilder.Prepare(message, AosSubmitKind.Send).MayReportProgress);
    }

    [Fact]
    public void PlainBodyThatEncodesPastTheThresholdMayReportProgress()
    {
        var message = Message("a@x.org");
        // "é" is 2 UTF-8 bytes, 6 encoded bytes, a CRLF 6 too: the form passes the threshold.
        // Lines of 60 octets, so the body stays plain (B8).
        message.Body = string.Concat(Enumerable.Repeat(new string('é', 30) + "\n", (int)(AosProtocol.ProgressThresholdBytes / (31 * 6)) + 1));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.True(AosFormContent.Measure(prepared.Fields) >= AosProtocol.ProgressThresholdBytes);
        Assert.True(prepared.MayReportProgress);
    }

    [Fact]
    public void PlainBodyFarBelowTheThresholdCannotReportProgress()
    {
        var message = Message("a@x.org");
        // Lines of 70 characters (72 with CRLF), so the body stays plain (B8).
        message.Body = string.Concat(Enumerable.Repeat(new string('x', 70) + "\n",
            (int)(AosProtocol.ProgressThresholdBytes / AosFormEncodingStream.MaxEncodedBytesPerChar - 1000) / 72));
        Assert.False(AosFormBuilder.Prepare(message, AosSubmitKind.Send).MayReportProgress);
    }

    [Fact]
    public void MimeBodyMayAlwaysReportProgress()
    {
        var message = Message("a@x.org");
        message.Body = "<p>Hi</p>";
        message.BodyIsHtml = true;
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Contains(prepared.Fields, f => f.IsStreamed);
        Assert.True(prepared.MayReportProgress);
    }

    // ---- B5: field order ----

    [Fact]
    public void MinimalSend()
    {
        var prepared = AosFormBuilder.Prepare(Message("a@x.org"), AosSubmitKind.Send);
        Assert.Equal(new[] { KeyValuePair.Create("api", "lc"), KeyValuePair.Create("mto", "a@x.org"), KeyValuePair.Create("snd", "checked") }, Pairs(prepared));
        Assert.Equal(AosSubmitKind.Send, prepared.Kind);
    }

    [Fact]
    public void MinimalDraftNeedsNoRecipient()
    {
        var prepared = AosFormBuilder.Prepare(new AosMessage(), AosSubmitKind.SaveDraft);
        Assert.Equal(new[] { KeyValuePair.Create("api", "lc"), KeyValuePair.Create("svdrf", "checked") }, Pairs(prepared));
        Assert.Empty(prepared.To);
    }

    [Fact]
    public void SendWithKeepCopy()
    {
        var message = Message("a@x.org");
        message.KeepCopy = true;
        Assert.Equal("api,mto,snd,keepcopy", Names(AosFormBuilder.Prepare(message, AosSubmitKind.Send)));
        Assert.Equal("checked", Field(AosFormBuilder.Prepare(message, AosSubmitKind.Send), "keepcopy"));
    }

    [Fact]
    public void DraftIgnoresKeepCopy()
    {
        var message = Message("a@x.org");
        message.KeepCopy = true;
        Assert.Equal("api,mto,svdrf", Names(AosFormBuilder.Prepare(message, AosSubmitKind.SaveDraft)));
    }

    [Fact]
    public void DraftIdComesRightAfterApi()
    {
        var message = new AosMessage { DraftId = "d-17.x_Y" };
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.SaveDraft);
        Assert.Equal("api,mid,svdrf", Names(prepared));
        Assert.Equal("d-17.x_Y", Field(prepared, "mid"));
        Assert.Equal("d-17.x_Y", prepared.DraftId);
    }

    [Fact]
    public void SendingADraftId()
    {
        var message = Message("a@x.org");
        message.DraftId = "42";
        Assert.Equal("api,mid,mto,snd", Names(AosFormBuilder.Prepare(message, AosSubmitKind.Send)));
    }

    [Fact]
    public void PriorityIsSentOnlyWhenGiven()
    {
        var message = Message("a@x.org");
        Assert.DoesNotContain(AosFormBuilder.Prepare(message, AosSubmitKind.Send).Fields, f => f.Name == "mprio");
        message.Priority = 1;
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Equal("api,mto,mprio,snd", Names(prepared));
        Assert.Equal("1", Field(prepared, "mprio"));
    }

    [Fact]
    public void HeadersGoIntoOneMheaderFieldInOrder()
    {
        var message = Message("a@x.org");
        message.Headers.Add(KeyValuePair.Create("X-Company", "Afteroffice"));
        message.Headers.Add(KeyValuePair.Create("X-Tag", "one"));
        message.Headers.Add(KeyValuePair.Create("X-Tag", "two"));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Equal("api,mto,mheader,snd", Names(prepared));
        Assert.Equal("X-Company: Afteroffice\r\nX-Tag: one\r\nX-Tag: two", Field(prepared, "mheader"));
    }

    [Fact]
    public void EverythingTogetherInB5Order()
    {
        var message = Message("a@x.org");
        message.Cc.Add("c@x.org");
        message.Bcc.Add("b@x.org");
        message.Subject = "Hi";
        message.Body = "Text";
        message.Priority = 5;
        message.Headers.Add(KeyValuePair.Create("X-A", "1"));
        message.KeepCopy = true;
        message.DraftId = "7";
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Equal(new[]
        {
            KeyValuePair.Create("api", "lc"),
            KeyValuePair.Create("mid", "7"),
            KeyValuePair.Create("mto", "a@x.org"),
            KeyValuePair.Create("mcc", "c@x.org"),
            KeyValuePair.Create("mbcc", "b@x.org"),
            KeyValuePair.Create("msub", "Hi"),
            KeyValuePair.Create("body", "Text"),
            KeyValuePair.Create("mprio", "5"),
            KeyValuePair.Create("mheader", "X-A: 1"),
            KeyValuePair.Create("snd", "checked"),
            KeyValuePair.Create("keepcopy", "checked"),
        }, Pairs(prepared));
        Assert.Equal("Hi", prepared.Subject);
        Assert.Equal(0, prepared.AttachmentCount);
    }

    [Fact]
    public void EmptySubjectAndBodyAreLeftOut()
    {
        var message = Message("a@x.org");
        message.Subject = "";
        message.Body = "";
        Assert.Equal("api,mto,snd", Names(AosFormBuilder.Prepare(message, AosSubmitKind.Send)));
    }

    [Fact]
    public void UrlIsNeverSent()
    {
        var message = Message("a@x.org");
        message.Subject = "s";
        message.Body = "b";
        Assert.DoesNotContain(AosFormBuilder.Prepare(message, AosSubmitKind.Send).Fields, f => f.Name.ToLowerInvariant() == "url");
    }

    // ---- B6: addresses ----

    [Fact]
    public void DisplayNameWithCommaIsQuoted()
    {
        var prepared = AosFormBuilder.Prepare(Message("\"Smith, Bob\" <b@y.org>"), AosSubmitKind.Send);
        Assert.Equal("\"Smith, Bob\" <b@y.org>", Field(prepared, "mto"));
        Assert.Equal(new[] { "b@y.org" }, prepared.To);
    }

    [Fact]
    public void DisplayNameWithQuotesIsEscaped()
    {
        var prepared = AosFormBuilder.Prepare(Message("\"Bob \\\"The Builder\\\"\" <b@y.org>"), AosSubmitKind.Send);
        Assert.Equal("\"Bob \\\"The Builder\\\"\" <b@y.org>", Field(prepared, "mto"));
    }

    [Fact]
    public void PlainDisplayNameStaysUnquoted()
    {
        Assert.Equal("Bob Smith <b@y.org>", Field(AosFormBuilder.Prepare(Message("Bob Smith <b@y.org>"), AosSubmitKind.Send), "mto"));
    }

    [Fact]
    public void NonAsciiDisplayNameIsRfc2047Encoded()
    {
        var mto = Field(AosFormBuilder.Prepare(Message("Jörg Müller <j@x.de>"), AosSubmitKind.Send), "mto");
        Assert.StartsWith("=?utf-8?", mto);
        Assert.EndsWith("?= <j@x.de>", mto);
        Assert.All(mto, c => Assert.True(c < 128));
        var parsed = (MailboxAddress)InternetAddressList.Parse(mto).Single();
        Assert.Equal("Jörg Müller", parsed.Name);
        Assert.Equal("j@x.de", parsed.Address);
    }

    [Fact]
    public void SeveralEntriesAndListsInsideOneEntry()
    {
        var message = Message("a@x.org", "Bob <b@y.org>, c@z.org");
        message.Cc.Add("d@x.org,e@x.org");
        message.Bcc.Add("f@x.org");
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Equal("a@x.org, Bob <b@y.org>, c@z.org", Field(prepared, "mto"));
        Assert.Equal("d@x.org, e@x.org", Field(prepared, "mcc"));
        Assert.Equal("f@x.org", Field(prepared, "mbcc"));
        Assert.Equal(new[] { "a@x.org", "b@y.org", "c@z.org" }, prepared.To);
        Assert.Equal(new[] { "d@x.org", "e@x.org" }, prepared.Cc);
        Assert.Equal(new[] { "f@x.org" }, prepared.Bcc);
    }

    [Fact]
    public void CcOrBccAloneIsEnoughToSend()
    {
        var message = new AosMessage();
        message.Bcc.Add("b@x.org");
        Assert.Equal("api,mbcc,snd", Names(AosFormBuilder.Prepare(message, AosSubmitKind.Send)));
    }

    // ---- B7: subject ----

    [Fact]
    public void AsciiSubjectGoesAsIs()
    {
        var message = Message("a@x.org");
        message.Subject = "Report =? for Q3 (final)";
        Assert.Equal("Report =? for Q3 (final)", Field(AosFormBuilder.Prepare(message, AosSubmitKind.Send), "msub"));
    }

    [Theory]
    [InlineData("Grüße aus Köln")]
    [InlineData("日本語の件名")]
    [InlineData("A very long subject with ümlauts repeated: ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut ümlaut")]
    public void NonAsciiSubjectIsOneLineOfEncodedWords(string subject)
    {
        var message = Message("a@x.org");
        message.Subject = subject;
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        var msub = Field(prepared, "msub");
        Assert.Contains("=?utf-8?", msub);
        Assert.DoesNotContain("\r", msub);
        Assert.DoesNotContain("\n", msub);
        Assert.All(msub, c => Assert.True(c < 128));
        Assert.Equal(subject, Rfc2047.DecodeText(Encoding.ASCII.GetBytes(msub)));
        Assert.Equal(subject, prepared.Subject);
    }

    // ---- B8: plain body ----

    [Fact]
    public void PlainAsciiBodyGetsCrLfAndNoMimeHeaders()
    {
        var message = Message("a@x.org");
        message.Body = "line1\nline2\rline3\r\nline4\n\n";
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Equal("line1\r\nline2\r\nline3\r\nline4\r\n\r\n", Field(prepared, "body"));
        Assert.DoesNotContain(prepared.Fields, f => f.Name == "mheader");
    }

    [Fact]
    public void PlainNonAsciiBodyGoesAsUtf8WithMimeHeadersAfterTheUsersHeaders()
    {
        var message = Message("a@x.org");
        message.Body = "Grüße\nJörg";
        message.Headers.Add(KeyValuePair.Create("X-A", "1"));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Equal("Grüße\r\nJörg", Field(prepared, "body"));
        Assert.Equal("X-A: 1\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit", Field(prepared, "mheader"));
        Assert.Equal("api,mto,body,mheader,snd", Names(prepared));
    }

    // ---- B10: header values ----

    [Fact]
    public void NonAsciiHeaderValueIsRfc2047Encoded()
    {
        var message = Message("a@x.org");
        message.Headers.Add(KeyValuePair.Create("X-Note", "Grüße"));
        var mheader = Field(AosFormBuilder.Prepare(message, AosSubmitKind.Send), "mheader");
        Assert.StartsWith("X-Note: =?utf-8?", mheader);
        Assert.DoesNotContain("\n", mheader);
        Assert.Equal("Grüße", Rfc2047.DecodeText(Encoding.ASCII.GetBytes(mheader.Substring("X-Note: ".Length))));
    }
}
