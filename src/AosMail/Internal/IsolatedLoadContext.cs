using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace AosMail.Internal
{
    /// <summary>
    /// PowerShell 7: a private AssemblyLoadContext for the engine and its dependencies (the "ALC
    /// resolver" pattern). The default context asks us only for AosMail.Engine, which it cannot
    /// find because it lives in bin/; everything the engine needs then resolves inside this
    /// context first, so another module's MimeKit in the default context never meets ours.
    /// </summary>
    internal sealed class IsolatedLoadContext : AssemblyLoadContext
    {
        private const string EngineName = "AosMail.Engine";

        private static IsolatedLoadContext? _instance;
        private readonly string _folder;
        private readonly HashSet<string> _platformAssemblies;

        private IsolatedLoadContext(string folder)
        {
            _folder = folder;
            _platformAssemblies = ReadPlatformAssemblies();
        }

        public static void Register(string folder)
        {
            _instance ??= new IsolatedLoadContext(folder);
            Default.Resolving += ResolveEngine;
        }

        public static void Unregister() => Default.Resolving -= ResolveEngine;

        private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name)
        {
            return _instance is not null && string.Equals(name.Name, EngineName, StringComparison.Ordinal)
                ? _instance.LoadFromAssemblyName(name)
                : null;
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            // What the runtime or PowerShell itself ships (System.Memory, System.Formats.Asn1, ...)
            // comes from the default context: our netstandard copies of those exist for Windows
            // PowerShell only, and two copies of such types in one process would not mix.
            if (assemblyName.Name is null || _platformAssemblies.Contains(assemblyName.Name)) return null;

            string path = Path.Combine(_folder, assemblyName.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }

        private static HashSet<string> ReadPlatformAssemblies()
        {
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string list)
            {
                foreach (string path in list.Split(Path.PathSeparator))
                {
                    if (path.Length > 0) names.Add(Path.GetFileNameWithoutExtension(path));
                }
            }

            return names;
        }
    }
}
