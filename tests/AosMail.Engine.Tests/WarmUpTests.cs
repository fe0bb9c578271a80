using System;
using System.Threading.Tasks;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// The warm-up (AosWarmUp) runs the send path into memory once per process; it swallows its own
/// failures, so a failure must be seen here, on each runtime the engine tests run on (.NET, and
/// Mono in the Framework lane).
/// </summary>
public sealed class WarmUpTests
{
    [Fact]
    public async Task RunsOnceToItsEndWithoutAFailure()
    {
        AosWarmUp.Start();
        var first = AosWarmUp.Completed;
        AosWarmUp.Start();

        Assert.Same(first, await Task.WhenAny(first, Task.Delay(TimeSpan.FromSeconds(60))));
        Assert.Same(first, AosWarmUp.Completed);
        Assert.Null(AosWarmUp.Failure);
    }
}
