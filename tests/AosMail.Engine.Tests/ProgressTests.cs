using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>How a large message read reports its bytes (Save-AosMessage, Get-AosMessage -Raw show them as progress).</summary>
public class ProgressTests
{
    private sealed class Reports : IAosProgress
    {
        public List<AosTransferProgress> All { get; } = new();

        public void Report(AosTransferProgress progress) => All.Add(progress);
    }

    private static async Task<Reports> Read(int size, long total)
    {
        var reports = new Reports();
        using (var reporter = AosProgressReporter.Create(reports, AosProtocol.ReadCommand, download: true)!)
        {
            reporter.Start(total);
            var stream = new AosProgressStream(new MemoryStream(new byte[size]), reporter.Sent);
            await stream.CopyToAsync(Stream.Null, 81920);
        }

        return reports;
    }

    [Fact]
    public async Task AReadOfKnownSizeReportsItsBytesThenCompletesAtTheTotal()
    {
        int size = (int)AosProtocol.ProgressThresholdBytes + 100_000;
        var reports = await Read(size, size);
        Assert.True(reports.All.Count >= 2);
        Assert.All(reports.All, r => Assert.True(r.Download));
        Assert.InRange(reports.All[0].PercentComplete, 0, 100);
        var last = reports.All[reports.All.Count - 1];
        Assert.True(last.Completed);
        Assert.Equal(size, last.BytesSent);
        Assert.Equal(100, last.PercentComplete);
        Assert.Single(reports.All, r => r.Completed);
    }

    [Fact]
    public async Task AReadOfUnknownSizeReportsOnceItIsLargeWithNoPercent()
    {
        int size = (int)AosProtocol.ProgressThresholdBytes + 100_000;
        var reports = await Read(size, -1);
        Assert.NotEmpty(reports.All);
        Assert.All(reports.All, r => Assert.Equal(-1, r.PercentComplete));
        Assert.All(reports.All, r => Assert.True(r.BytesSent >= AosProtocol.ProgressThresholdBytes));
        Assert.Equal(size, reports.All.Last().BytesSent);
        Assert.True(reports.All.Last().Completed);
    }

    [Fact]
    public async Task ASmallReadReportsNothing()
    {
        Assert.Empty((await Read(100_000, 100_000)).All);
        Assert.Empty((await Read(100_000, -1)).All);
    }
}
