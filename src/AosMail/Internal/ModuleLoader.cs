using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;

namespace AosMail.Internal
{
    /// <summary>
    /// Makes the module's private dependencies (the engine, MimeKit and what MimeKit needs) load
    /// from the module's bin folder without clashing with another module's copies. PowerShell
    /// calls OnImport before any cmdlet runs.
    /// </summary>
    /// <remarks>
    /// The cmdlet assembly itself references only the engine, and only through AosMail types, so
    /// no dependency type ever crosses from one load context to another.
    /// </remarks>
    public sealed class ModuleLoader : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        internal static readonly string DependencyFolder =
            Path.Combine(Path.GetDirectoryName(typeof(ModuleLoader).Assembly.Location)!, "bin");

        private static readonly bool IsNetFramework =
            RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.OrdinalIgnoreCase);

        private static readonly object Gate = new object();
        private static bool _registered;

        public void OnImport()
        {
            lock (Gate)
            {
                if (_registered) return;
                if (IsNetFramework)
                {
                    AppDomain.CurrentDomain.AssemblyResolve += ResolveOnNetFramework;
                }
                else
                {
                    // In its own class so that Windows PowerShell never compiles AssemblyLoadContext code.
                    IsolatedLoadContext.Register(DependencyFolder);
                }

                _registered = true;
            }
        }

        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            lock (Gate)
            {
                if (!_registered) return;
                if (IsNetFramework)
                {
                    AppDomain.CurrentDomain.AssemblyResolve -= ResolveOnNetFramework;
                }
                else
                {
                    IsolatedLoadContext.Unregister();
                }

                _registered = false;
            }
        }

        /// <summary>
        /// Windows PowerShell has no load contexts: the best it offers is to serve our copies from
        /// bin when the default probe fails, by simple name (acting as a binding redirect). MimeKit
        /// is strong-named, so a different MimeKit version already loaded by another module can
        /// still live beside ours; the same version is shared.
        /// </summary>
        private static Assembly? ResolveOnNetFramework(object? sender, ResolveEventArgs args)
        {
            string path = Path.Combine(DependencyFolder, new AssemblyName(args.Name).Name + ".dll");
            return File.Exists(path) ? Assembly.LoadFrom(path) : null;
        }
    }
}
