using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace AosMail.FrameworkTests
{
    /// <summary>
    /// The manifest's nested module, AosMail.FrameworkCheck.dll, imported as Windows PowerShell
    /// imports it before AosMail.dll: loaded from the module's folder, its IModuleAssemblyInitializer
    /// found among its public types and called. On Mono (no AssemblyLoadContext) it takes the .NET
    /// Framework path, PowerShell 7's early return not; Mono has no .NET Framework setup key, so the
    /// check lets it through, as it does a release of 4.7.1 or later.
    /// </summary>
    internal static class FrameworkCheckChecks
    {
        public static bool Run(Checks checks)
        {
            checks.Section("The .NET Framework check (the nested module, imported before AosMail.dll)");
            string path = Path.Combine(PowerShellHost.ModuleFolder, "AosMail.FrameworkCheck.dll");
            checks.That("it references neither netstandard nor anything newer than .NET Framework 4.x and PowerShell 3.0", () =>
            {
                var references = Assembly.LoadFrom(path).GetReferencedAssemblies().Select(r => r.Name + " " + r.Version).ToList();
                return references.SequenceEqual(new[] { "mscorlib 4.0.0.0", "System.Management.Automation 3.0.0.0" }) ? null : "it references " + string.Join(", ", references);
            });
            checks.That("this runtime has no .NET Framework setup key: the check does not judge it", () => ReadRelease() is null ? null : "a release was read");
            return checks.That("its OnImport runs the .NET Framework path and lets this runtime through", () => { Import(path); return null; });
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
