using System;
using System.IO;
using System.Text;
using Xunit;

namespace AosMail.Engine.Tests;

[CollectionDefinition(nameof(JournalMemoryTests), DisableParallelization = true)]
public sealed class JournalMemoryCollection
{
}

/// <summary>What the send journal keeps in memory per row. Not parallel: it measures the heap.</summary>
[Collection(nameof(JournalMemoryTests))]
public sealed class JournalMemoryTests : IDisposable
{
    private static readonly Uri Server = new Uri("https://mail.example.org/cgi-bin/vo");
    private const string Account = "demo@example.org";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "aosmail-journal-memory-" + Guid.NewGuid().ToString("N"));

    public JournalMemoryTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, true);

    [Fact]
    public void MemoryPerRowIsBoundedWhateverTheKey()
    {
        // 20,000 rows keyed by 1,000-character values: 40 MB of keys as .NET strings.
        string path = Path.Combine(_folder, "memory.jsonl");
        const int Rows = 20000;
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)))
        {
            writer.Write("{\"journal\":\"AosMail send journal\",\"version\":\"1\",\"server\":\"" + Server.AbsoluteUri + "\",\"account\":\"" + Account
                + "\",\"keyBy\":\"property:Id\",\"created\":\"2026-01-01T00:00:00.000Z\"}\n");
            string padding = new string('k', 990);
            for (int i = 0; i < Rows; i++)
            {
                string key = padding + i.ToString("D10");
                writer.Write("{\"key\":\"" + key + "\",\"state\":\"pending\",\"time\":\"2026-01-01T00:00:00.000Z\"}\n");
                writer.Write("{\"key\":\"" + key + "\",\"state\":\"sent\",\"time\":\"2026-01-01T00:00:01.000Z\",\"answer\":\"OK\"}\n");
            }
        }

        long before = GC.GetTotalMemory(forceFullCollection: true);
        using var journal = AosSendJournal.Open(path, Server, Account, AosSendJournal.KeyByProperty("Id"));
        long growth = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.Equal(Rows, journal.RecordedKeys);
        Assert.True(growth < Rows * 200L, $"{growth:N0} bytes for {Rows:N0} rows: {growth / Rows} bytes a row");
        Assert.Equal(AosJournalVerdict.AlreadySent, journal.Admit(new string('k', 990) + 12345.ToString("D10"), false, out var entry));
        Assert.Equal("OK", entry!.Answer);
        GC.KeepAlive(journal);
    }
}
