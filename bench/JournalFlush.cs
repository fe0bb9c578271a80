using System;
using System.Diagnostics;
using System.IO;

/// <summary>
/// The journal's flush alone, as one row at a time makes it: a line written, then flushed to disk
/// (FileStream.Flush(true): fsync on Linux, FlushFileBuffers on Windows), some CPU work between two
/// flushes (the request). Appended, the file grows with each line; into room, the file was given
/// zeros ahead of its lines first (written, and flushed with the first line), as AosSendJournal does.
/// </summary>
public static class AosJournalFlushBench
{
    /// <summary>
    /// The median time of a flush (the line's write with it), in milliseconds, over <paramref name="rows"/>
    /// lines: on a shared machine a few flushes wait for someone else's I/O, and their mean swings with them.
    /// </summary>
    public static double MedianFlushMilliseconds(string path, int rows, bool intoRoom, int gapMicroseconds)
    {
        var line = new byte[280];
        for (int i = 0; i < line.Length; i++) line[i] = (byte)'x';
        line[line.Length - 1] = (byte)'\n';
        var flushTicks = new long[rows];
        using (var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1))
        {
            file.Write(line, 0, line.Length);
            if (intoRoom)
            {
                var zeros = new byte[64 * 1024];
                for (int i = 0; i < 16; i++) file.Write(zeros, 0, zeros.Length);
                file.Seek(line.Length, SeekOrigin.Begin);
            }

            file.Flush(true);
            var clock = Stopwatch.StartNew();
            long gap = gapMicroseconds * Stopwatch.Frequency / 1000000;
            for (int row = 0; row < rows; row++)
            {
                long until = clock.ElapsedTicks + gap;
                while (clock.ElapsedTicks < until)
                {
                }

                long start = clock.ElapsedTicks;
                file.Write(line, 0, line.Length);
                file.Flush(true);
                flushTicks[row] = clock.ElapsedTicks - start;
            }
        }

        File.Delete(path);
        Array.Sort(flushTicks);
        return flushTicks[rows / 2] * 1000.0 / Stopwatch.Frequency;
    }
}
