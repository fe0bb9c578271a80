using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// What makes a message, said once (AosMessageParts): every property and posted field is classified, and the
/// journal key, the stored-message comparison and a draft's re-send follow that classification.
/// </summary>
public sealed class MessagePartsTests : IDisposable
{
    private readonly TempFiles _files = new TempFiles();

    public void Dispose() => _files.Dispose();

    // Fields of the other commands (login, session check, reads); every sdmailact field is in SubmitFieldOrder.
    private static readonly string[] OtherCommandsFields = { "api", "name", "host", "pswd", "sid", "mbox", "LCTop", "file" };

    [Fact]
    public void EveryPublicPropertyOfAosMessageIsClassified()
    {
        var properties = typeof(AosMessage).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal);
        var classified = AosMessageParts.Properties.Select(p => p.Property).OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(properties, classified);
        foreach (var part in AosMessageParts.Properties)
        {
            Assert.NotNull(AosMessageParts.Of(part.Field));
            Assert.False(string.IsNullOrWhiteSpace(part.Reason), part.Property);
            // A part of the body must say what the key hashes when the body is streamed (a MIME body).
            Assert.True(part.Field != AosProtocol.FieldBody || part.BodySource != null, part.Property + " is posted in the body but has no BodySource for the key.");
        }

        var attachment = typeof(AosAttachmentSource).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(attachment, AosMessageParts.AttachmentProperties.Keys.OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void EveryPostedFieldIsClassified()
    {
        Assert.Equal(AosProtocol.SubmitFieldOrder, AosMessageParts.Fields.Select(f => f.Field));
        Assert.All(AosMessageParts.Fields, f => Assert.False(string.IsNullOrWhiteSpace(f.Reason), f.Field));

        // An AosProtocol.Field* constant is a field of sdmailact (then classified) or of another command.
        var constants = typeof(AosProtocol).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.Name.StartsWith("Field", StringComparison.Ordinal))
            .Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.DoesNotContain(constants, c => !AosProtocol.SubmitFieldOrder.Contains(c) && !OtherCommandsFields.Contains(c));

        // What the builder posts for a message with every part set, sent and saved.
        foreach (var kind in new[] { AosSubmitKind.Send, AosSubmitKind.SaveDraft })
        {
            var prepared = AosFormBuilder.Prepare(Full(), kind);
            Assert.All(prepared.Fields, f => AosMessageParts.Of(f.Name));
        }
    }

    /// <summary>A message with every property set.</summary>
    private AosMessage Full(string? bodyPath = null)
    {
        var message = new AosMessage
        {
            Subject = "Notice", Body = bodyPath == null ? "<p>Hello <img src=\"cid:logo\"></p>" : null, BodyIsHtml = true, BodyPath = bodyPath,
            BodyEncoding = bodyPath == null ? null : Encoding.UTF8, TextBody = "Hello", ReadReceiptTo = "r@x.org", Priority = 2, KeepCopy = true, DraftId = "d1",
        };
        message.To.Add("a@x.org");
        message.Cc.Add("c@x.org");
        message.Bcc.Add("b@x.org");
        message.ReplyTo.Add("reply@x.org");
        message.Headers.Add(new KeyValuePair<string, string>("X-Id", "1"));
        message.Attachments.Add(AosAttachmentSource.FromBytes("a.txt", new byte[] { 1, 2 }));
        message.InlineAttachments.Add(new KeyValuePair<string, AosAttachmentSource>("logo", AosAttachmentSource.FromBytes("logo.png", new byte[] { 3 })));
        return message;
    }

    private static string Key(AosMessage message) => AosJournalKey.Of(message, AosFormBuilder.Prepare(message, AosSubmitKind.Send));

    private static AosPreparedSubmission With(AosPreparedSubmission prepared, string field, string value)
    {
        var fields = prepared.Fields.ToDictionary(f => f.Name, StringComparer.Ordinal);
        fields[field] = AosFormField.Plain(field, value);
        return new AosPreparedSubmission(prepared.Kind, AosFormBuilder.InWireOrder(fields), prepared.To, prepared.Cc, prepared.Bcc,
            prepared.Subject, prepared.AttachmentCount, prepared.DraftId);
    }

    /// <summary>
    /// The key covers every posted field that changes what is sent: for each field, two submissions that differ
    /// only in it have different keys, unless the descriptor leaves it out (then the same key). A field added to
    /// the form and classified is covered without touching the key.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KeyCoversEveryKeyedFieldAndNoOther(bool mimeBody)
    {
        var message = new AosMessage { Subject = "Notice", Body = mimeBody ? "<p>Hello</p>" : "Hello", BodyIsHtml = mimeBody, Priority = 3 };
        message.To.Add("a@x.org");
        message.Headers.Add(new KeyValuePair<string, string>("X-Id", "1"));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        string key = AosJournalKey.Of(message, prepared);
        foreach (var part in AosMessageParts.Fields)
        {
            var posted = prepared.Fields.FirstOrDefault(f => f.Name == part.Field);
            if (posted != null && posted.IsStreamed)
            {
                continue;
            }

            string changed = AosJournalKey.Of(message, With(prepared, part.Field, "x" + (posted?.Value ?? "")));
            if (part.Keyed)
            {
                Assert.True(key != changed, $"Two messages that differ only in {part.Field} have the same key.");
            }
            else
            {
                Assert.True(key == changed, $"{part.Field} is left out of the key ({part.Reason}), but changes it.");
            }
        }
    }

    /// <summary>Each part of a streamed body changes the key; the MIME lines with their random boundary do not.</summary>
    [Fact]
    public void KeyOfAStreamedBodyCoversEachOfItsSourcesAndNotItsBoundary()
    {
        string key = Key(Full());
        Assert.Equal(key, Key(Full()));
        Assert.NotEqual(AosFormBuilder.Prepare(Full(), AosSubmitKind.Send).Fields.Single(f => f.Name == "mheader").Value,
            AosFormBuilder.Prepare(Full(), AosSubmitKind.Send).Fields.Single(f => f.Name == "mheader").Value);

        var keepCopy = Full();
        keepCopy.KeepCopy = false;
        Assert.Equal(key, Key(keepCopy));

        // One change per property of the message; the test fails when a classified property has none here.
        var changes = new Dictionary<string, Action<AosMessage>>
        {
            [nameof(AosMessage.To)] = m => m.To[0] = "b@x.org",
            [nameof(AosMessage.Cc)] = m => m.Cc.Clear(),
            [nameof(AosMessage.Bcc)] = m => m.Bcc.Add("d@x.org"),
            [nameof(AosMessage.Subject)] = m => m.Subject = "Notice!",
            [nameof(AosMessage.Body)] = m => m.Body += " ",
            [nameof(AosMessage.BodyIsHtml)] = m => { m.BodyIsHtml = false; m.TextBody = null; m.InlineAttachments.Clear(); },
            [nameof(AosMessage.BodyPath)] = m => { m.Body = null; m.BodyPath = _files.Create("body.html", 10, seed: 1); },
            [nameof(AosMessage.BodyEncoding)] = m => m.BodyEncoding = Encoding.Unicode,
            [nameof(AosMessage.TextBody)] = m => m.TextBody = "Hello.",
            [nameof(AosMessage.Attachments)] = m => m.Attachments.Add(AosAttachmentSource.FromBytes("b.txt", new byte[] { 1 })),
            [nameof(AosMessage.InlineAttachments)] = m => m.InlineAttachments[0] = new KeyValuePair<string, AosAttachmentSource>("logo", AosAttachmentSource.FromBytes("logo2.png", new byte[] { 3 })),
            [nameof(AosMessage.ReplyTo)] = m => m.ReplyTo.Add("r2@x.org"),
            [nameof(AosMessage.ReadReceiptTo)] = m => m.ReadReceiptTo = null,
            [nameof(AosMessage.Priority)] = m => m.Priority = 1,
            [nameof(AosMessage.Headers)] = m => m.Headers[0] = new KeyValuePair<string, string>("X-Id", "2"),
            [nameof(AosMessage.DraftId)] = m => m.DraftId = "d2",
        };
        var keyed = AosMessageParts.Properties.Where(p => AosMessageParts.Of(p.Field).Keyed).Select(p => p.Property);
        Assert.Equal(keyed.OrderBy(n => n, StringComparer.Ordinal), changes.Keys.OrderBy(n => n, StringComparer.Ordinal));

        var keys = changes.ToDictionary(c => c.Key, c =>
        {
            var message = Full();
            c.Value(message);
            return Key(message);
        });
        Assert.All(keys, k => Assert.True(k.Value != key, $"Changing {k.Key} leaves the key as it was."));
        Assert.Equal(keys.Count, keys.Values.Distinct().Count());

        // BodyIsHtml alone (an HTML body cannot lose its flag alone above: its text part and inline parts need it).
        var plainText = Full();
        plainText.TextBody = null;
        plainText.InlineAttachments.Clear();
        plainText.Body = "<p>Hello</p>";
        string htmlKey = Key(plainText);
        plainText.BodyIsHtml = false;
        Assert.NotEqual(htmlKey, Key(plainText));
    }

    /// <summary>
    /// -BodyPath: the key follows the file's bytes, never its path. The path is not sent, so two files with the same
    /// bytes make the same message (one key), and a file changed between two rows or runs is another message.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BodyFileIsKeyedByItsContentNotItsPath(bool html)
    {
        AosMessage FromFile(string path)
        {
            var message = new AosMessage { Subject = "Notice", BodyPath = path, BodyIsHtml = html };
            message.To.Add("a@x.org");
            return message;
        }

        string text = html ? "<p>Hello</p>" : "Hello";
        string one = Path.Combine(_files.Folder, "one.txt");
        string two = Path.Combine(_files.Folder, "two.txt");
        File.WriteAllText(one, text);
        File.WriteAllText(two, text);
        string key = Key(FromFile(one));
        Assert.Equal(key, Key(FromFile(two)));

        File.WriteAllText(one, text + " again");
        Assert.NotEqual(key, Key(FromFile(one)));
        Assert.Equal(key, Key(FromFile(two)));
    }

    /// <summary>The stored-message comparison follows the descriptor: a change in a compared field is another message, a change elsewhere is not.</summary>
    [Fact]
    public void StoredMessageIsComparedByEachComparedField()
    {
        var message = new AosMessage { Subject = "Notice", Body = "Hello", Priority = 3 };
        message.To.Add("a@x.org");
        message.Cc.Add("c@x.org");
        message.Headers.Add(new KeyValuePair<string, string>("X-Id", "1"));
        var posted = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.True(AosConnection.MatchesPosted(ListingTests.StoredDraft(posted), posted.Fields));
        foreach (var part in AosMessageParts.Fields)
        {
            var value = posted.Fields.FirstOrDefault(f => f.Name == part.Field)?.Value;
            // Addresses must stay addresses; any other text is changed by one character.
            var other = With(posted, part.Field, part.Comparison == AosPartComparison.Addresses ? "z@x.org" : (value ?? "") + "z");
            bool matches = AosConnection.MatchesPosted(ListingTests.StoredDraft(other), posted.Fields);
            Assert.True(matches == (part.Comparison == AosPartComparison.None), $"{part.Field} ({part.Comparison}): a stored message that differs in it {(matches ? "matches" : "does not match")}.");
        }
    }

    /// <summary>Sending a draft as saved takes from the draft exactly the fields the descriptor marks, and drops the headers the server writes.</summary>
    [Fact]
    public void DraftResendTakesTheSavedFieldsTheDescriptorNames()
    {
        var saved = Encoding.UTF8.GetBytes(string.Join("\r\n",
            "From: demo@sandbox.test", "To: a@x.org", "Cc: c@x.org", "Bcc: b@x.org", "Subject: Saved", "X-Priority: 2",
            "Date: Tue, 25 Nov 2025 19:46:40 +0000", "Message-ID: <1.2@sandbox.test>", "X-Id: 7", "", "Saved body"));
        var message = new AosMessage { DraftId = "d1" };
        message.To.Add("a@x.org");
        var sent = AosDraftContent.WithSavedContent(AosFormBuilder.Prepare(message, AosSubmitKind.Send), saved);
        string? Field(string name) => sent.Fields.FirstOrDefault(f => f.Name == name)?.Value;
        foreach (var part in AosMessageParts.Fields.Where(p => p.Resend == AosDraftResend.SavedUnlessGiven))
        {
            Assert.NotNull(Field(part.Field));
        }

        Assert.Equal("c@x.org", Field("mcc"));
        Assert.Equal("b@x.org", Field("mbcc"));
        Assert.Equal("Saved", Field("msub"));
        Assert.Equal("2", Field("mprio"));
        Assert.Equal("X-Id: 7", Field("mheader"));
        Assert.Equal("Saved body", Field("body"));
        Assert.Equal(new[] { "b@x.org" }, sent.Bcc);
    }

    /// <summary>
    /// A single-part MIME body (HTML, or plain text with long lines) has no boundary to tell it apart: it is
    /// compared as written, so two messages that differ only in their HTML are two messages.
    /// </summary>
    [Fact]
    public void ComparesASinglePartMimeBodyAsWritten()
    {
        AosPreparedSubmission Html(string body)
        {
            var message = new AosMessage { Subject = "Same", Body = body, BodyIsHtml = true };
            message.To.Add("a@x.org");
            return AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        }

        var ours = Html("<p>ours</p>");
        var theirs = Html("<p>theirs</p>");
        Assert.True(AosConnection.MatchesPosted(ListingTests.StoredDraft(ours), ours.Fields));
        Assert.False(AosConnection.MatchesPosted(ListingTests.StoredDraft(theirs), ours.Fields));
        Assert.False(AosConnection.MatchesPosted(ListingTests.StoredDraft(Html("<p>ours</p> and more")), ours.Fields));
        Assert.False(AosConnection.MatchesPosted(ListingTests.StoredDraft(Html("<p>our</p>")), ours.Fields));

        // Stored with LF line ends and trailing blank lines, or non-ASCII text (quoted-printable): the same body.
        var lf = Encoding.UTF8.GetString(ListingTests.StoredDraft(ours)).Replace("\r\n", "\n") + "\n\n";
        Assert.True(AosConnection.MatchesPosted(Encoding.UTF8.GetBytes(lf), ours.Fields));
        var longLine = Html("<p>" + new string('x', 2000) + " Grüße</p>\n<p>two</p>");
        Assert.True(AosConnection.MatchesPosted(ListingTests.StoredDraft(longLine), longLine.Fields));
        Assert.False(AosConnection.MatchesPosted(ListingTests.StoredDraft(Html("<p>" + new string('x', 2000) + " Grüsse</p>\n<p>two</p>")), longLine.Fields));
    }
}
