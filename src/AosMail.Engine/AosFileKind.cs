using System;
using System.IO;
using System.Runtime.InteropServices;

namespace AosMail.Engine
{
    /// <summary>
    /// Whether a path names a regular file. A FIFO blocks the reader until someone writes to it and
    /// a device such as /dev/zero never ends, so neither may become an attachment. .NET reports no
    /// file type, so on Unix the type comes from stat(2) through the runtime's own POSIX shim
    /// (System.Native, which FileStream itself uses); where that shim is missing, File.Exists is
    /// all there is to go on.
    /// </summary>
    internal static class AosFileKind
    {
        private const int TypeMask = 0xF000;
        private const int RegularFile = 0x8000;

        // System.Native's FileStatus: int Flags, int Mode, then more; 512 bytes hold every version of it.
        private const int StatusSize = 512;
        private const int ModeOffset = 4;

        public static bool IsRegularFile(string path)
        {
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
            {
                return false;
            }

            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                // The device namespace (\\.\pipe\..., \\.\COM1) holds pipes and devices, not files.
                return !path.StartsWith(@"\\.\", StringComparison.Ordinal);
            }

            var status = Marshal.AllocHGlobal(StatusSize);
            try
            {
                return Stat(path, status) != 0 || (Marshal.ReadInt32(status, ModeOffset) & TypeMask) == RegularFile;
            }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException)
            {
                return true;
            }
            finally
            {
                Marshal.FreeHGlobal(status);
            }
        }

        [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", SetLastError = true)]
        private static extern int Stat(string path, IntPtr status);
    }
}
