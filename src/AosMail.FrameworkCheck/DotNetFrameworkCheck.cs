using System;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using Microsoft.Win32;

namespace AosMail.FrameworkCheck
{
    /// <summary>
    /// Stops Windows PowerShell's import of AosMail on a .NET Framework older than 4.7.1, with what
    /// is installed and what to install. AosMail.dll is built for .NET Standard 2.0, which .NET
    /// Framework has built in from 4.7.1 (release 461308); on an older one (stock Windows Server 2016
    /// has 4.6.2) the import would fail with "Could not load file or assembly 'netstandard'", and
    /// Windows PowerShell does not enforce the manifest's DotNetFrameworkVersion above 4.5 itself.
    /// </summary>
    /// <remarks>
    /// A binary nested module rather than a script: PowerShell imports nested modules before the
    /// root module, and on PowerShell 7 a binary one with nothing to export costs an assembly load
    /// and one call, where a script costs every import its parse and compilation.
    /// </remarks>
    public sealed class DotNetFrameworkCheck : IModuleAssemblyInitializer
    {
        /// <summary>.NET Framework 4.7.1's release number: the first with netstandard 2.0 built in.</summary>
        public const int RequiredRelease = 461308;

        private const string SetupKey = @"SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full";

        // Each version's lowest release number, newest first, from Microsoft's table of .NET
        // Framework releases (learn.microsoft.com, "How to: Determine which .NET Framework versions are installed").
        // (Tuple, not a value tuple: System.ValueTuple is not in .NET Framework before 4.7.)
        private static readonly Tuple<int, string>[] Versions =
        {
            Tuple.Create(460798, "4.7"), Tuple.Create(394802, "4.6.2"), Tuple.Create(394254, "4.6.1"), Tuple.Create(393295, "4.6"),
            Tuple.Create(379893, "4.5.2"), Tuple.Create(378675, "4.5.1"), Tuple.Create(378389, "4.5"),
        };

        /// <summary>
        /// Judges the installed .NET Framework. PowerShell 7 leaves at once: its runtime has
        /// AssemblyLoadContext (the same capability test as the module's loader, which this
        /// assembly cannot reference), and .NET Standard 2.0 is always there.
        /// </summary>
        public void OnImport()
        {
            if (typeof(object).Assembly.GetType("System.Runtime.Loader.AssemblyLoadContext", throwOnError: false) != null) return;
            Require(InstalledRelease());
        }

        /// <summary>
        /// The Release value of .NET Framework 4.5 and later's setup key, or null where there is
        /// none: a runtime that is not Microsoft's .NET Framework (Mono), which has netstandard 2.0
        /// since Mono 5.4 and is left to load AosMail.dll.
        /// </summary>
        public static int? InstalledRelease()
        {
            using (RegistryKey? key = Registry.LocalMachine.OpenSubKey(SetupKey))
            {
                return key?.GetValue("Release") is int release ? release : (int?)null;
            }
        }

        /// <summary>What is wrong with this release for AosMail, or null when it is new enough (or not Microsoft's .NET Framework).</summary>
        public static string? Problem(int? release)
        {
            if (release is null || release >= RequiredRelease) return null;

            string installed = "no .NET Framework 4.5 or later";
            foreach (var version in Versions)
            {
                if (release >= version.Item1)
                {
                    installed = $".NET Framework {version.Item2} (release {release})";
                    break;
                }
            }

            return $"AosMail needs .NET Framework 4.7.1 or later (release {RequiredRelease} or higher), and this computer has {installed}. " +
                "Install .NET Framework 4.8 (https://dotnet.microsoft.com/download/dotnet-framework/net48) and restart Windows, " +
                "or use AosMail from PowerShell 7 (https://aka.ms/powershell), which brings its own .NET.";
        }

        /// <summary>
        /// Throws AosDotNetFrameworkTooOld (NotInstalled, the release as target) when the release
        /// is too old; Import-Module reports that error record and imports nothing.
        /// </summary>
        public static void Require(int? release)
        {
            string? problem = Problem(release);
            if (problem != null) Stop(problem, release!.Value);
        }

        // A method of its own: the JIT resolves every type a method names before running it, and
        // a release that passes should need no more of PowerShell than IModuleAssemblyInitializer.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Stop(string problem, int release)
        {
            var cause = new PlatformNotSupportedException(problem);
            // The id is spelled here: AosErrorIds lives in the engine, which cannot load where this runs.
            var error = new ErrorRecord(cause, "AosDotNetFrameworkTooOld", ErrorCategory.NotInstalled, release);
            throw new RuntimeException(problem, cause, error);
        }
    }
}
