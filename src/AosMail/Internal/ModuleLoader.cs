using System;
using System.IO;
using System.Management.Automation;
using System.Runtime.CompilerServices;

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

        /// <summary>
        /// Chosen by what the runtime can do, not by its name: PowerShell 7's runtime has
        /// AssemblyLoadContext in its core library; .NET Framework (Windows PowerShell) and Mono
        /// have not. Looked up by name so that finding out loads nothing.
        /// </summary>
        internal static readonly bool HasLoadContexts =
            typeof(object).Assembly.GetType("System.Runtime.Loader.AssemblyLoadContext", throwOnError: false) != null;

        private static readonly object Gate = new object();
        private static DependencyResolver? _resolver;
        private static bool _registered;

        public void OnImport()
        {
            lock (Gate)
            {
                if (_registered) return;
                if (HasLoadContexts)
                {
                    RegisterLoadContext();
                }
                else
                {
                    _resolver ??= new DependencyResolver(DependencyFolder);
                    AppDomain.CurrentDomain.AssemblyResolve += _resolver.Resolve;
                }

                _registered = true;
            }
        }

        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            lock (Gate)
            {
                if (!_registered) return;
                if (HasLoadContexts)
                {
                    UnregisterLoadContext();
                }
                else
                {
                    AppDomain.CurrentDomain.AssemblyResolve -= _resolver!.Resolve;
                }

                _registered = false;
            }
        }

        // The load-context calls sit in methods of their own: the JIT resolves every type a method
        // mentions before running it, so a branch that Windows PowerShell never takes would still
        // make it look for System.Runtime.Loader (and fail the import) if it were inline above.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void RegisterLoadContext() => IsolatedLoadContext.Register(DependencyFolder);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void UnregisterLoadContext() => IsolatedLoadContext.Unregister();
    }
}
