using System;
using System.IO;

namespace AosMail.Engine.Tests;

/// <summary>A private temporary folder (random-content files for attachment tests, saved messages), deleted on Dispose.</summary>
internal sealed class TempFiles : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "aosmail-engine-tests-" + Guid.NewGuid().ToString("N"));

    public TempFiles() => Directory.CreateDirectory(_folder);

    public string Folder => _folder;

    /// <summary>Writes <paramref name="size"/> random bytes (repeatable for a seed) and returns the path.</summary>
    public string Create(string name, int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => Directory.Delete(_folder, true);
}
