namespace AosMail.Engine.Tests;

public class Placeholder
{
    [Xunit.Fact]
    public void ErrorIdsArePrefixed() => Xunit.Assert.StartsWith("Aos", AosErrorIds.InvalidAddress);
}
