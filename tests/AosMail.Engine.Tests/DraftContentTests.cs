using System.Linq;
using System.Text;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>A draft sent as saved (AosDraftContent): what of the stored draft is posted again.</summary>
public class DraftContentTests
{
    private const string SavedWithBcc =
        "From: demo@sandbox.test\r\nTo: bob@x.org\r\nBcc: Carol <carol@x.org>, dave@x.org\r\nSubject: Plan\r\nDate: Tue, 25 Nov 2025 19:46:40 +0000\r\n\r\nthe text";

    private static AosPreparedSubmission SendAsSaved(params string[] bcc)
    {
        var message = new AosMessage { DraftId = "d1" };
        message.To.Add("bob@x.org");
        foreach (var address in bcc) message.Bcc.Add(address);
        return AosFormBuilder.Prepare(message, AosSubmitKind.Send);
    }

    private static string? Field(AosPreparedSubmission prepared, string name) => prepared.Fields.SingleOrDefault(f => f.Name == name)?.Value;

    [Fact]
    public void ABccTheStoredDraftHoldsIsSent()
    {
        var sent = AosDraftContent.WithSavedContent(SendAsSaved(), Encoding.UTF8.GetBytes(SavedWithBcc));
        Assert.Equal("api,mid,mto,mbcc,msub,body,snd", string.Join(",", sent.Fields.Select(f => f.Name)));
        Assert.Equal("Carol <carol@x.org>, dave@x.org", Field(sent, "mbcc"));
        Assert.Equal(new[] { "carol@x.org", "dave@x.org" }, sent.Bcc);
        // Bcc goes to the server as mbcc only, never as a header line.
        Assert.Null(Field(sent, "mheader"));
    }

    [Fact]
    public void ABccGivenWithTheSendWins()
    {
        var sent = AosDraftContent.WithSavedContent(SendAsSaved("eve@x.org"), Encoding.UTF8.GetBytes(SavedWithBcc));
        Assert.Equal("eve@x.org", Field(sent, "mbcc"));
        Assert.Equal(new[] { "eve@x.org" }, sent.Bcc);
    }

    [Fact]
    public void ADraftWithoutBccSendsNone()
    {
        var saved = SavedWithBcc.Replace("Bcc: Carol <carol@x.org>, dave@x.org\r\n", "");
        var sent = AosDraftContent.WithSavedContent(SendAsSaved(), Encoding.UTF8.GetBytes(saved));
        Assert.Null(Field(sent, "mbcc"));
        Assert.Empty(sent.Bcc);
        Assert.Equal("Plan", sent.Subject);
    }
}
