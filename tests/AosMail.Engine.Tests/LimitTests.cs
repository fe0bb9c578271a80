using AosMail.Engine;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// The limits as documented (about_AosMail_Protocol, docs/aos-protocol.md), written out as
/// figures: the other tests measure against the constants, so a changed constant would pass them
/// all. Changing a limit means changing its documentation and this test with it.
/// </summary>
public class LimitTests
{
    [Fact]
    public void AnswerLimitsAreTheDocumentedOneAndSixtyFourMegabytes()
    {
        Assert.Equal(1_048_576L, AosProtocol.AnswerLimit(AosProtocol.LoginCommand));
        Assert.Equal(1_048_576L, AosProtocol.AnswerLimit(AosProtocol.SubmitCommand));
        Assert.Equal(67_108_864L, AosProtocol.AnswerLimit(AosProtocol.ListCommand));
        Assert.Equal(67_108_864L, AosProtocol.AnswerLimit(AosProtocol.MailboxTableCommand));
        Assert.Null(AosProtocol.AnswerLimit(AosProtocol.ReadCommand));
    }

    [Fact]
    public void LineAndTextLimitsAreTheDocumentedFigures()
    {
        Assert.Equal(998, AosProtocol.MaxHeaderLineLength);
        Assert.Equal(300, AosProtocol.ServerTextMaxLength);
    }
}
