using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace AosMail.Engine
{
    /// <summary>
    /// Puts what was written to a file on disk before the caller goes on (the journal's flush).
    /// </summary>
    /// <remarks>
    /// On Linux this is <c>fdatasync</c>: the file's bytes and what reading them back needs (its
    /// size, its blocks), but not its modification time, which every write changes. On a file
    /// system with a journal (ext4, XFS) an <c>fsync</c> then commits that time change, a journal
    /// commit for many of the flushes; <c>fdatasync</c> leaves it out (the bench's flush companion,
    /// docs/performance.md). Elsewhere, and where the C library has no <c>fdatasync</c> (a libc
    /// other than glibc), it is <see cref="FileStream.Flush(bool)"/>: <c>fsync</c>,
    /// <c>F_FULLFSYNC</c> on macOS, <c>FlushFileBuffers</c> on Windows.
    /// </remarks>
    internal static class AosFileSync
    {
        private const int EINVAL = 22;

        private static int _dataOnly = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? 1 : 0;

        /// <summary>Whether <see cref="Data"/> syncs with <c>fdatasync</c> (on Linux, once it has been found).</summary>
        internal static bool DataOnly => Volatile.Read(ref _dataOnly) == 1;

        /// <summary>Writes out the stream's buffer, then puts the file's data on disk; a failure is an <see cref="IOException"/>.</summary>
        internal static void Data(FileStream file)
        {
            file.Flush(flushToDisk: false);
            if (DataOnly)
            {
                try
                {
                    if (fdatasync(file.SafeFileHandle) == 0) return;
                    int error = Marshal.GetLastWin32Error();
                    // A file that cannot be synced (not a regular file) is left to FileStream, which
                    // treats it as .NET does; any other failure may have lost data: never retried.
                    if (error != EINVAL) throw new IOException("The file could not be put on disk: " + new Win32Exception(error).Message + ".");
                }
                catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException)
                {
                    Volatile.Write(ref _dataOnly, 0);
                }
            }

            file.Flush(flushToDisk: true);
        }

        // glibc's soname: the bare "libc" is not found on every runtime (libc.so is a linker script).
        [DllImport("libc.so.6", SetLastError = true)]
        private static extern int fdatasync(SafeFileHandle fd);
    }
}
