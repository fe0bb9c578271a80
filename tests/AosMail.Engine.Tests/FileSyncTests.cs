using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>The journal's flush: fdatasync on Linux (on .NET and on Mono, the .NET Framework lane), FileStream's flush elsewhere.</summary>
public sealed class FileSyncTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "aosmail-filesync-tests-" + Guid.NewGuid().ToString("N"));

    public FileSyncTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, true);

    private static bool OnLinux => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

    [Fact]
    public async Task AJournalsLinesGoToDiskByFdatasyncOnLinux()
    {
        string path = Path.Combine(_folder, "journal.jsonl");
        using (var journal = AosSendJournal.Open(path, new Uri("https://mail.example.org/cgi-bin/vo"), "demo@example.org", AosSendJournal.KeyByContent))
        {
            await journal.SubmitAsync("a", () => Task.FromResult(new AosSubmitResult(AosSubmitKind.Send, DateTimeOffset.UtcNow, TimeSpan.Zero, "OK", 1, false)));
            Assert.True(journal.Flushes >= 2, "the pending and sent lines were flushed");
        }

        // A libc without fdatasync (or a wrong library name) turns it off for the process; a failed fdatasync breaks the journal.
        Assert.Equal(OnLinux, AosFileSync.DataOnly);
        Assert.Contains("\"state\":\"sent\"", File.ReadAllText(path));
    }

    [Fact]
    public void AFileThatCannotBeSyncedIsLeftToFileStream()
    {
        if (!OnLinux) return;
        // fdatasync on /dev/null is EINVAL, as for any file that is not a regular one: FileStream's flush decides, as without fdatasync.
        using (var devNull = new FileStream("/dev/null", FileMode.Open, FileAccess.Write))
        {
            devNull.WriteByte(1);
            AosFileSync.Data(devNull);
        }

        Assert.True(AosFileSync.DataOnly);
    }
}
