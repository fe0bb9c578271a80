using System;
using System.Collections.Concurrent;
using System.IO;
using System.Reflection;

namespace AosMail.Internal
{
    /// <summary>
    /// Windows PowerShell (any runtime without load contexts): serves the module's private
    /// dependencies from bin/ through AppDomain.AssemblyResolve, which the runtime raises only
    /// after its own probe failed. The event is process-wide, so every module's failed binds come
    /// here too: an assembly is served only by identity (one of ours, same public key, a version
    /// no higher than our copy), never to a requester that is someone else's, and to a request that
    /// names no requester only when it asks for exactly the identity we ship. Az, ExchangeOnline and
    /// the like never get our System.Memory or Unsafe in place of the version they asked for, and
    /// a by-name load (Add-Type -AssemblyName, RequiredAssemblies, Assembly.Load) gets our copy only
    /// when it would have bound to that very file anyway.
    /// </summary>
    internal sealed class DependencyResolver
    {
        private readonly string _folder;
        private readonly string _moduleFolder;
        private readonly ConcurrentDictionary<string, AssemblyName?> _available =
            new ConcurrentDictionary<string, AssemblyName?>(StringComparer.OrdinalIgnoreCase);

        public DependencyResolver(string folder)
        {
            _folder = Path.GetFullPath(folder);
            _moduleFolder = Path.GetDirectoryName(_folder)!;
        }

        public Assembly? Resolve(object? sender, ResolveEventArgs args)
        {
            AssemblyName requested;
            try
            {
                requested = new AssemblyName(args.Name);
            }
            catch (Exception e) when (e is ArgumentException || e is FileLoadException)
            {
                return null;
            }

            if (requested.Name is null) return null;
            AssemblyName? ours = _available.GetOrAdd(requested.Name, ReadIdentity);
            if (ours is null) return null;

            bool? requesterIsOurs = args.RequestingAssembly is null ? (bool?)null : IsOurs(args.RequestingAssembly);
            return ShouldServe(requested, ours, requesterIsOurs) ? Assembly.LoadFrom(Path.Combine(_folder, ours.Name + ".dll")) : null;
        }

        /// <summary>
        /// The whole policy, free of the file system: serve <paramref name="ours"/> for
        /// <paramref name="requested"/> when the names match, the request's public key token (if
        /// any) is ours and its culture (if any) is neutral; to one of our own assemblies
        /// (<paramref name="requesterIsOurs"/> true) when it asks for no higher version than we have;
        /// to a request with no requester (null: a by-name load, which our own assemblies never
        /// make) only when it names our exact version and public key token; never to someone else's.
        /// </summary>
        internal static bool ShouldServe(AssemblyName requested, AssemblyName ours, bool? requesterIsOurs)
        {
            if (requesterIsOurs == false) return false;
            if (!string.Equals(requested.Name, ours.Name, StringComparison.OrdinalIgnoreCase)) return false;
            if (!string.IsNullOrEmpty(requested.CultureName)) return false;

            byte[]? token = requested.GetPublicKeyToken();
            byte[] ourToken = ours.GetPublicKeyToken() ?? Array.Empty<byte>();
            if (token != null && token.Length > 0 && !TokensEqual(token, ourToken)) return false;

            if (requesterIsOurs == null)
            {
                return requested.Version != null && requested.Version == ours.Version
                    && TokensEqual(token ?? Array.Empty<byte>(), ourToken);
            }

            return requested.Version is null || (ours.Version != null && requested.Version <= ours.Version);
        }

        /// <summary>An assembly loaded from the module's folder or its bin/ (AosMail itself, the engine, MimeKit ...).</summary>
        internal bool IsOurs(Assembly assembly)
        {
            string location;
            try
            {
                location = assembly.Location;
            }
            catch (NotSupportedException)
            {
                return false; // a dynamic assembly has no file
            }

            if (string.IsNullOrEmpty(location)) return false;
            string? folder = Path.GetDirectoryName(Path.GetFullPath(location));
            return string.Equals(folder, _folder, StringComparison.OrdinalIgnoreCase)
                || string.Equals(folder, _moduleFolder, StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>The identity of bin/&lt;name&gt;.dll, read from its metadata without loading it; null when there is none.</summary>
        private AssemblyName? ReadIdentity(string name)
        {
            string path = Path.Combine(_folder, name + ".dll");
            if (!File.Exists(path)) return null;
            try
            {
                return AssemblyName.GetAssemblyName(path);
            }
            catch (Exception e) when (e is BadImageFormatException || e is IOException || e is UnauthorizedAccessException)
            {
                return null;
            }
        }

        private static bool TokensEqual(byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++)
            {
                if (a[i] != b[i]) return false;
            }

            return true;
        }
    }
}
