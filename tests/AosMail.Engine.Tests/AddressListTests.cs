using System.Linq;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>B6: address lists in one entry, as RFC 5322 and Outlook write them.</summary>
public class AddressListTests
{
    private static AosPreparedSubmission Prepare(string to, string? cc = null)
    {
        var message = new AosMessage { Subject = "s", Body = "b" };
        message.To.Add(to);
        if (cc != null)
        {
            message.Cc.Add(cc);
        }

        return AosFormBuilder.Prepare(message, AosSubmitKind.Send);
    }

    private static string Field(AosPreparedSubmission prepared, string name) => prepared.Fields.Single(f => f.Name == name).Materialize();

    [Theory]
    [InlineData("a@x.org; b@y.org", "a@x.org, b@y.org", 2)]
    [InlineData("a@x.org;b@y.org;", "a@x.org, b@y.org", 2)]
    [InlineData("Ann <a@x.org>; \"Doe, John\" <j@y.org>, c@z.org", "Ann <a@x.org>, \"Doe, John\" <j@y.org>, c@z.org", 3)]
    [InlineData("\"Doe; John\" <j@y.org>; b@y.org", "\"Doe; John\" <j@y.org>, b@y.org", 2)]
    [InlineData("a@x.org (desk; 2nd floor); b@y.org", "\"desk; 2nd floor\" <a@x.org>, b@y.org", 2)]  // MimeKit takes the comment for the name
    [InlineData("\"Doe, John\" <j@y.org>", "\"Doe, John\" <j@y.org>", 1)]
    public void SemicolonsSeparateAddressesOutsideQuotesAndComments(string entry, string mto, int count)
    {
        var prepared = Prepare(entry);
        Assert.Equal(mto, Field(prepared, "mto"));
        Assert.Equal(count, prepared.To.Count);
    }

    [Fact]
    public void SemicolonListsWorkInEveryRecipientField()
    {
        var message = new AosMessage { Subject = "s", Body = "b" };
        message.To.Add("a@x.org");
        message.Cc.Add("c@x.org; d@x.org");
        message.Bcc.Add("e@x.org; f@x.org");
        message.ReplyTo.Add("r@x.org; s@x.org");
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        Assert.Equal("c@x.org, d@x.org", Field(prepared, "mcc"));
        Assert.Equal("e@x.org, f@x.org", Field(prepared, "mbcc"));
        Assert.Equal(new[] { "e@x.org", "f@x.org" }, prepared.Bcc);
        Assert.Contains("Reply-To: r@x.org, s@x.org", Field(prepared, "mheader"));
    }

    [Theory]
    [InlineData("Doe, John <j@y.org>", "'\"Doe, John\" <j@y.org>'")]
    [InlineData("a@x.org; Doe, John <j@y.org>", "'\"Doe, John\" <j@y.org>'")]
    public void AnUnquotedDisplayNameWithACommaIsRefusedWithTheQuotedForm(string entry, string hint)
    {
        var error = Assert.Throws<AosException>(() => Prepare("ok@x.org", entry));
        Assert.Equal(AosErrorIds.InvalidAddress, error.ErrorId);
        Assert.Equal(AosErrorCategory.InvalidArgument, error.Category);
        Assert.Equal(entry, error.Target);
        Assert.Contains($"The Cc entry '{entry}' has a display name with a comma that is not in quotes", error.Message);
        Assert.Contains(hint, error.Message);
    }

    [Fact]
    public void AGroupIsStillRefusedWhateverItsSemicolon()
    {
        var error = Assert.Throws<AosException>(() => Prepare("Team: a@x.org, b@x.org;"));
        Assert.Equal(AosErrorIds.InvalidAddress, error.ErrorId);
        Assert.Contains("group", error.Message);
    }
}
