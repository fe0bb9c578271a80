using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Win32;

namespace AosMail.FrameworkTests
{
    /// <summary>
    /// The manifest's nested module, AosMail.FrameworkCheck.dll, imported as Windows PowerShell
    /// imports it before AosMail.dll: loaded from the module's folder, its IModuleAssemblyInitializer
    /// found among its public types and called. On Mono (no AssemblyLoadContext) it takes the .NET
    /// Framework path, not PowerShell 7's early return. Mono has no .NET Framework setup key, so the
    /// check lets it through; Mono's registry (kept in a folder of this run's, MONO_REGISTRY_PATH)
    /// then plays a .NET Framework's setup key, with 4.6.2's release and 4.7.1's.
    /// </summary>
    internal static class FrameworkCheckChecks
    {
        private const string SetupKey = @"SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full";

        public static bool Run(Checks checks)
        {
            checks.Section("The .NET Framework check (the nested module, imported before AosMail.dll)");
            string path = Path.Combine(PowerShellHost.ModuleFolder, "AosMail.FrameworkCheck.dll");
            checks.That("it references neither netstandard nor anything newer than .NET Framework 4.x and PowerShell 3.0", () =>
            {
                var references = Assembly.LoadFrom(path).GetReferencedAssemblies().Select(r => r.Name + " " + r.Version).ToList();
                return references.SequenceEqual(new[] { "mscorlib 4.0.0.0", "System.Management.Automation 3.0.0.0" }) ? null : "it references " + string.Join(", ", references);
            });

            // Mono reads the variable when its registry is first used: before anything else here.
            string registry = Path.Combine(Path.GetTempPath(), "aos-lane-registry-" + Guid.NewGuid().ToString("n"));
            Environment.SetEnvironmentVariable("MONO_REGISTRY_PATH", registry);
            try
            {
                checks.That("this runtime has no .NET Framework setup key: the check does not judge it", () => ReadRelease() is null ? null : "a release was read");
                bool passes = checks.That("its OnImport runs the .NET Framework path and lets this runtime through", () => { Import(path); return null; });

                checks.That("with 4.6.2's setup key (release 394802) its OnImport stops the import: AosDotNetFrameworkTooOld, NotInstalled, naming 4.6.2", () =>
                {
                    SetRelease(registry, 394802);
                    try
                    {
                        Import(path);
                        return "the import went on";
                    }
                    catch (RuntimeException e)
                    {
                        var record = e.ErrorRecord;
                        return record.FullyQualifiedErrorId == "AosDotNetFrameworkTooOld" && record.CategoryInfo.Category == ErrorCategory.NotInstalled
                            && Equals(record.TargetObject, 394802) && record.Exception is PlatformNotSupportedException
                            && record.Exception.Message.Contains("this computer has .NET Framework 4.6.2 (release 394802). Install .NET Framework 4.8")
                            ? null : record.FullyQualifiedErrorId + " " + record.CategoryInfo.Category + ": " + record.Exception.Message;
                    }
                });
                checks.That("with 4.7.1's setup key (release 461308) it lets the import through", () =>
                {
                    SetRelease(registry, 461308);
                    Import(path);
                    return null;
                });
                return passes;
            }
            finally
            {
                Registry.LocalMachine.DeleteSubKeyTree(@"SOFTWARE\Microsoft\NET Framework Setup", throwOnMissingSubKey: false);
                if (Directory.Exists(registry)) Directory.Delete(registry, recursive: true);
            }
        }

        private static void SetRelease(string registry, int release)
        {
            using (var key = Registry.LocalMachine.CreateSubKey(SetupKey)) key.SetValue("Release", release, RegistryValueKind.DWord);
            if (!Directory.Exists(registry)) throw new InvalidOperationException("Mono's registry is not in " + registry + ": it was used before MONO_REGISTRY_PATH was set");
        }

        // PowerShell's part: the public IModuleAssemblyInitializer types of the assembly, each made and called.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Import(string path)
        {
            var initializers = Assembly.LoadFrom(path).GetExportedTypes().Where(t => typeof(IModuleAssemblyInitializer).IsAssignableFrom(t) && !t.IsAbstract).ToList();
            if (initializers.Count != 1) throw new InvalidOperationException(initializers.Count + " module initializers in " + path);
            ((IModuleAssemblyInitializer)Activator.CreateInstance(initializers[0])).OnImport();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int? ReadRelease() => AosMail.FrameworkCheck.DotNetFrameworkCheck.InstalledRelease();
    }
}
