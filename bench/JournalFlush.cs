using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

/// <summary>
/// The journal's flush alone, as one row at a time makes it: a line written, then flushed to disk
/// (FileStream.Flush(true): fsync on Linux, FlushFileBuffers on Windows), some CPU work between two
/// flushes (the request). Appended, the file grows with each line; into room, the file was given
/// zeros ahead of its lines first (written, and flushed with the first line), as AosSendJournal does.
/// With dataOnly (Linux), each flush is an fdatasync instead, as AosSendJournal's is there
/// (AosFileSync): no commit of the modification time that each write changes. With
/// sleepMilliseconds the gap is a sleep, as a row's thread waits for its request: a write takes the
/// kernel's coarse clock (a few milliseconds a tick), so more writes carry a new modification time
/// than in a tight loop. In a run against the sandbox every write does (the sandbox's own file
/// writes move that clock on, docs/performance.md), so this companion shows less of it than a run.
/// </summary>
public static class AosJournalFlushBench
{
    /// <summary>
    /// The median time of a flush (the line's write with it), in milliseconds, over <paramref name="rows"/>
    /// lines: on a shared machine a few flushes wait for someone else's I/O, and their mean swings with them.
    /// </summary>
    public static double MedianFlushMilliseconds(string path, int rows, bool intoRoom, int gapMicroseconds, bool dataOnly = false, int sleepMilliseconds = 0)
    {
        long[] flushTicks = FlushTicks(path, rows, intoRoom, gapMicroseconds, dataOnly, sleepMilliseconds);
        Array.Sort(flushTicks);
        return flushTicks[rows / 2] * 1000.0 / Stopwatch.Frequency;
    }

    /// <summary>
    /// The mean time of a flush: where only some flushes carry extra work (a journal commit of a
    /// new modification time), the median hides it and the mean is what a run pays.
    /// </summary>
    public static double MeanFlushMilliseconds(string path, int rows, bool intoRoom, int gapMicroseconds, bool dataOnly = false, int sleepMilliseconds = 0)
    {
        long total = 0;
        foreach (long ticks in FlushTicks(path, rows, intoRoom, gapMicroseconds, dataOnly, sleepMilliseconds)) total += ticks;
        return total * 1000.0 / Stopwatch.Frequency / rows;
    }

    private static long[] FlushTicks(string path, int rows, bool intoRoom, int gapMicroseconds, bool dataOnly, int sleepMilliseconds)
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
                if (sleepMilliseconds > 0)
                {
                    System.Threading.Thread.Sleep(sleepMilliseconds);
                }

                long until = clock.ElapsedTicks + gap;
                while (clock.ElapsedTicks < until)
                {
                }

                long start = clock.ElapsedTicks;
                file.Write(line, 0, line.Length);
                if (!dataOnly) file.Flush(true);
                else if (fdatasync(file.SafeFileHandle) != 0) throw new IOException("fdatasync failed: " + Marshal.GetLastWin32Error());
                flushTicks[row] = clock.ElapsedTicks - start;
            }
        }

        File.Delete(path);
        return flushTicks;
    }

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int fdatasync(SafeFileHandle fd);
}
