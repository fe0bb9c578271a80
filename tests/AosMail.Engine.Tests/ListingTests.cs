using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>B17 (openbox) and B19 (mboxtable) parsing with canned answers.</summary>
public class ListingTests
{
    private const string Full1 = "1764100000123.000\tHello\tdemo@sandbox.test\t512\t1764100000\tHi there.\ttext/plain\talice@sandbox.test\tNew";
    private const string Full2 = "1764100000456.001\tSecond\t\"Bob B\" <bob@sandbox.test>\t1024\t0\tBody\tmultipart/mixed\tdemo@sandbox.test\tRead";

    [Fact]
    public void ReadsNineFieldLinesSplitOnCrLf()
    {
        var listing = AosListingParser.ParseListing(Full1 + "\r\n" + Full2);
        Assert.Empty(listing.Problems);
        Assert.Equal(2, listing.Messages.Count);
        var first = listing.Messages[0];
        Assert.Equal("1764100000123.000", first.Id);
        Assert.Equal("Hello", first.Subject);
        Assert.Equal("demo@sandbox.test", first.From);
        Assert.Equal(512, first.Size);
        Assert.Equal(new DateTime(2025, 11, 25, 19, 46, 40, DateTimeKind.Utc), first.Date);
        Assert.Equal(DateTimeKind.Utc, first.Date.Kind);
        Assert.Equal("Hi there.", first.Excerpt);
        Assert.Equal("text/plain", first.ContentType);
        Assert.Equal("alice@sandbox.test", first.To);
        Assert.False(first.IsRead);
        var second = listing.Messages[1];
        Assert.True(second.IsRead);
        Assert.Equal("\"Bob B\" <bob@sandbox.test>", second.From);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(0).UtcDateTime, second.Date);
    }

    [Fact]
    public void SplitsOnBareLfToo()
    {
        var listing = AosListingParser.ParseListing(Full1 + "\n" + Full2 + "\n");
        Assert.Equal(2, listing.Messages.Count);
        Assert.Equal("Read", listing.Messages[1].IsRead == true ? "Read" : "New");
    }

    [Theory]
    [InlineData("")]
    [InlineData("\r\n")]
    [InlineData("  \n\n")]
    public void AnEmptyAnswerIsAnEmptyMailbox(string text)
    {
        var listing = AosListingParser.ParseListing(text);
        Assert.Empty(listing.Messages);
        Assert.Empty(listing.Problems);
    }

    [Fact]
    public void ReadsLegacySixFieldLines()
    {
        var listing = AosListingParser.ParseListing("42\tOld\tx@y.z\t10\t1000000000\texcerpt");
        var message = Assert.Single(listing.Messages);
        Assert.Null(message.ContentType);
        Assert.Null(message.To);
        Assert.Null(message.IsRead);
        Assert.Equal("excerpt", message.Excerpt);
        Assert.Equal(new DateTime(2001, 9, 9, 1, 46, 40, DateTimeKind.Utc), message.Date);
    }

    [Fact]
    public void DecodesRfc2047SubjectsAndNamesAndKeepsRawUtf8()
    {
        var encoded = "=?utf-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes("Größe – 報告")) + "?=";
        var from = "=?utf-8?Q?J=C3=BCrgen?= <j@x.de>";
        var line = "1\t" + encoded + "\t" + from + "\t1\t1\tDéjà vu\ttext/plain\tZoë <z@x.de>\tNew";
        var message = Assert.Single(AosListingParser.ParseListing(line).Messages);
        Assert.Equal("Größe – 報告", message.Subject);
        Assert.Equal("\"Jürgen\" <j@x.de>", message.From);
        Assert.Equal("Déjà vu", message.Excerpt);
        Assert.Equal("\"Zoë\" <z@x.de>", message.To);
    }

    [Fact]
    public void KeepsTabsOfAnExcerptInAFullLine()
    {
        var line = "7\tS\ta@b.c\t1\t1\tcol1\tcol2\tcol3\ttext/plain\tz@b.c\tRead";
        var message = Assert.Single(AosListingParser.ParseListing(line).Messages);
        Assert.Equal("col1\tcol2\tcol3", message.Excerpt);
        Assert.Equal("text/plain", message.ContentType);
        Assert.Equal("z@b.c", message.To);
        Assert.True(message.IsRead);
    }

    [Theory]
    [InlineData("1\tS\ta@b.c\t1\t1", "5 TAB-separated field(s)")]
    [InlineData("<html><body>Login</body></html>", "1 TAB-separated field(s)")]
    [InlineData("../x\tS\ta@b.c\t1\t1\te", "is not 1 to 64")]
    [InlineData("1\tS\ta@b.c\tbig\t1\te", "size 'big'")]
    [InlineData("1\tS\ta@b.c\t-1\t1\te", "size '-1'")]
    [InlineData("1\tS\ta@b.c\t1\tyesterday\te", "time 'yesterday'")]
    [InlineData("1\tS\ta@b.c\t1\t99999999999999\te", "is not Unix seconds")]
    public void ReportsBadLinesWithTheirNumberAndKeepsTheOthers(string bad, string reason)
    {
        var listing = AosListingParser.ParseListing(Full1 + "\r\n" + bad + "\r\n" + Full2);
        Assert.Equal(2, listing.Messages.Count);
        var problem = Assert.Single(listing.Problems);
        Assert.Equal(2, problem.LineNumber);
        Assert.Contains(reason, problem.Reason);
    }

    [Fact]
    public void ReadsTheMailboxTable()
    {
        var boxes = AosListingParser.ParseMailboxTable("Inbox\t3\t1\r\nDraft\t0\t0\r\nSent Items\r\nOld\tmany\n\n");
        Assert.Equal(new[] { "Inbox", "Draft", "Sent Items", "Old" }, boxes.Select(b => b.Name));
        Assert.Equal(3, boxes[0].MessageCount);
        Assert.Equal(1, boxes[0].UnreadCount);
        Assert.Null(boxes[2].MessageCount);
        Assert.Null(boxes[3].MessageCount);
        Assert.Empty(AosListingParser.ParseMailboxTable(""));
    }

    /// <summary>What the sandbox (like AOS) stores for a draft: its own headers, the mheader lines, the body.</summary>
    internal static byte[] StoredDraft(AosPreparedSubmission prepared, string? extraHeader = null)
    {
        string? Field(string name) => prepared.Fields.Where(f => f.Name == name).Select(f => f.Materialize()).FirstOrDefault();
        var text = new StringBuilder("From: demo@sandbox.test\r\n");
        if (Field("mto") is { } to) text.Append("To: ").Append(to).Append("\r\n");
        if (Field("mcc") is { } cc) text.Append("Cc: ").Append(cc).Append("\r\n");
        if (Field("msub") is { } subject) text.Append("Subject: ").Append(subject).Append("\r\n");
        text.Append("Date: Tue, 25 Nov 2025 19:46:40 +0000\r\nMessage-ID: <1.2@sandbox.test>\r\n");
        if (extraHeader != null) text.Append(extraHeader).Append("\r\n");
        if (Field("mheader") is { } mheader) text.Append(mheader).Append("\r\n");
        text.Append("\r\n").Append(Field("body") ?? "");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static AosPreparedSubmission Draft(string? subject, string? body, string to = "alice@sandbox.test", bool html = false, string? header = null)
    {
        var message = new AosMessage { Subject = subject, Body = body, BodyIsHtml = html };
        message.To.Add(to);
        if (header != null) message.Headers.Add(new KeyValuePair<string, string>("X-Note", header));
        return AosFormBuilder.Prepare(message, AosSubmitKind.SaveDraft);
    }

    [Fact]
    public void RecognisesTheStoredDraftOfWhatWasPosted()
    {
        var posted = Draft("Grüße – plan", "line one\nZeile zwei: ä", header: "Schöne Grüße");
        Assert.True(AosConnection.MatchesPosted(StoredDraft(posted, "X-Priority: 3"), posted.Fields));
        // The same content stored by a server that refolds and adds trailing line breaks.
        var refolded = Encoding.UTF8.GetString(StoredDraft(posted)).Replace("Subject: ", "Subject:\r\n  ") + "\r\n\r\n";
        Assert.True(AosConnection.MatchesPosted(Encoding.UTF8.GetBytes(refolded), posted.Fields));
    }

    [Theory]
    [InlineData("Other subject", "ours", "alice@sandbox.test", null)]
    [InlineData("Race", "theirs", "alice@sandbox.test", null)]
    [InlineData("Race", "ours", "bob@sandbox.test", null)]
    [InlineData("Race", "ours", "alice@sandbox.test", "another note")]
    [InlineData(null, "ours", "alice@sandbox.test", null)]
    public void TellsAnotherDraftApart(string? subject, string body, string to, string? header)
    {
        var ours = Draft("Race", "ours", header: "a note");
        var theirs = Draft(subject, body, to, header: header ?? "a note");
        Assert.False(AosConnection.MatchesPosted(StoredDraft(theirs), ours.Fields));
        Assert.True(AosConnection.MatchesPosted(StoredDraft(ours), ours.Fields));
    }

    [Fact]
    public void ComparesTheMimeHeadersOfAnHtmlDraft()
    {
        var ours = Draft("Same", "<p>same</p>", html: false);
        var oursHtml = Draft("Same", "<p>same</p>", html: true);
        var theirsHtml = Draft("Same", "<p>same</p>", html: true);
        Assert.True(AosConnection.MatchesPosted(StoredDraft(oursHtml), oursHtml.Fields));
        Assert.False(AosConnection.MatchesPosted(StoredDraft(ours), oursHtml.Fields));
        // Identical HTML drafts: the same single-part content type, so no boundary tells them apart.
        Assert.True(AosConnection.MatchesPosted(StoredDraft(theirsHtml), oursHtml.Fields));

        // Multipart drafts with the same content: each has a boundary of its own.
        AosPreparedSubmission Alternative()
        {
            var message = new AosMessage { Subject = "Same", Body = "<p>same</p>", BodyIsHtml = true, TextBody = "same" };
            return AosFormBuilder.Prepare(message, AosSubmitKind.SaveDraft);
        }

        var one = Alternative();
        var two = Alternative();
        Assert.True(AosConnection.MatchesPosted(StoredDraft(one), one.Fields));
        Assert.False(AosConnection.MatchesPosted(StoredDraft(two), one.Fields));
    }

    [Fact]
    public void ParsesAMultipartMessageIntoPlainValues()
    {
        var raw = Encoding.UTF8.GetBytes(string.Join("\r\n",
            "From: demo@sandbox.test", "To: alice@sandbox.test", "Subject: =?utf-8?Q?Gr=C3=B6=C3=9Fe?=", "Date: Tue, 25 Nov 2025 19:46:40 +0000",
            "Message-ID: <1.2@sandbox.test>", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"b1\"", "",
            "--b1", "Content-Type: text/html; charset=utf-8", "", "<p>Hi</p>",
            "--b1", "Content-Type: text/csv; name=a.csv", "Content-Disposition: attachment; filename=a.csv", "Content-Transfer-Encoding: base64", "",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("q,r\n")), "--b1--", ""));
        var message = AosMimeReader.Parse(raw, "1");
        Assert.Equal("Größe", message.Subject);
        Assert.Equal("<p>Hi</p>", message.HtmlBody);
        Assert.Equal(new[] { "a.csv" }, message.Attachments);
        Assert.Equal(new[] { "alice@sandbox.test" }, message.To);
        Assert.Equal("multipart/mixed", message.ContentType);
        Assert.Equal("1.2@sandbox.test", message.MessageId);
        Assert.Equal(raw.Length, message.Size);
    }
}
