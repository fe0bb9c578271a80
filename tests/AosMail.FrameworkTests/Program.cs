using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace AosMail.FrameworkTests
{
    /// <summary>
    /// The Framework lane's end-to-end run on Mono, the stand-in for .NET Framework (Windows
    /// PowerShell cannot run here). It plays PowerShell's part in an import: the module's folder is
    /// this program's folder (a copy of the built module), AosMail.dll is loaded from there and its
    /// loader's OnImport runs; PowerShell's own types come from a stand-in. From then on the module's
    /// dependencies must come from bin/ through the loader alone. Then the engine's own API (the
    /// cmdlets need PowerShell) logs in, sends and saves drafts against the sandbox over both of
    /// Mono's HTTP stacks, and reads them back. Prints "Framework: N passed, N failed".
    /// </summary>
    /// <remarks>
    /// No method of this class names an engine or MimeKit type: the runtime would look for those
    /// assemblies when it compiles the method, before the loader is in place.
    /// </remarks>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            if (MimeKitProbe.IsProbe(args)) return MimeKitProbe.RunProbe(args);
            var options = Options.Parse(args);
            var checks = new Checks();
            var host = new PowerShellHost(options.StandIn);

            if (FrameworkCheckChecks.Run(checks) && LoaderChecks.Import(checks, host))
            {
                EngineChecks.Run(checks, options, EngineChecks.Transport.Sockets);
                EngineChecks.Run(checks, options, EngineChecks.Transport.WebRequest);
                TransportChecks.Run(checks, options);
                LoaderChecks.AfterUse(checks, host);
                MimeKitProbe.Run(checks, args);
            }

            Console.WriteLine($"Framework: {checks.Passed} passed, {checks.Failed} failed");
            return checks.Failed == 0 && checks.Passed > 0 ? 0 : 1;
        }
    }

    internal sealed class Options
    {
        public string StandIn { get; private set; } = "";
        public Uri Server { get; private set; } = null!;
        public Uri HttpsServer { get; private set; } = null!;
        public string User { get; private set; } = "";
        public string Password { get; private set; } = "";

        public static Options Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i + 1 < args.Length; i += 2)
            {
                values[args[i].TrimStart('-')] = args[i + 1];
            }

            string Get(string name) => values.TryGetValue(name, out var value) ? value : throw new ArgumentException("missing --" + name);
            return new Options
            {
                StandIn = Get("standin"),
                Server = new Uri(Get("server")),
                HttpsServer = new Uri(Get("https-server")),
                User = Get("user"),
                Password = Get("password"),
            };
        }
    }

    /// <summary>Counts and prints checks; an exception in a check is its failure.</summary>
    internal sealed class Checks
    {
        public int Passed { get; private set; }
        public int Failed { get; private set; }

        public void Section(string title) => Console.WriteLine(title);

        public bool That(string name, bool ok, string? detail = null)
        {
            if (ok) Passed++;
            else Failed++;
            Console.WriteLine((ok ? "  [pass] " : "  [FAIL] ") + name + (ok || detail is null ? "" : ": " + detail));
            return ok;
        }

        public bool That(string name, Func<string?> check)
        {
            try
            {
                string? problem = check();
                return That(name, problem is null, problem);
            }
            catch (Exception e)
            {
                // The whole exception: a failure on Mono is read from the CI log alone.
                return That(name, false, e.ToString());
            }
        }
    }

    /// <summary>
    /// What PowerShell does around a binary module's import, reduced to what the loader meets:
    /// PowerShell's own assembly is already there (here: the stand-in, handed out when asked for),
    /// and every assembly resolve request and load in the process can be watched.
    /// </summary>
    internal sealed class PowerShellHost
    {
        private readonly string _standIn;

        public PowerShellHost(string standIn)
        {
            _standIn = Path.GetFullPath(standIn);
            AppDomain.CurrentDomain.AssemblyResolve += Resolve;
            AppDomain.CurrentDomain.AssemblyLoad += (sender, args) => { lock (Loads) Loads.Add(args.LoadedAssembly); };
        }

        /// <summary>Every AssemblyResolve request the process saw: the name asked for and who asked (null when the runtime did not say).</summary>
        public List<(string Name, Assembly? Requester)> Requests { get; } = new List<(string, Assembly?)>();

        public List<Assembly> Loads { get; } = new List<Assembly>();

        public static string ModuleFolder => Path.GetDirectoryName(typeof(PowerShellHost).Assembly.Location)!;

        public static string BinFolder => Path.Combine(ModuleFolder, "bin");

        public static Assembly? Loaded(string name) =>
            AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => string.Equals(a.GetName().Name, name, StringComparison.OrdinalIgnoreCase));

        public bool WasRequested(string name)
        {
            lock (Requests) return Requests.Any(r => new AssemblyName(r.Name).Name == name);
        }

        private Assembly? Resolve(object? sender, ResolveEventArgs args)
        {
            lock (Requests) Requests.Add((args.Name, args.RequestingAssembly));
            return new AssemblyName(args.Name).Name == "System.Management.Automation" ? Assembly.LoadFrom(_standIn) : null;
        }
    }

    internal static class LoaderChecks
    {
        // An object, not a ModuleLoader: loading this class must not need PowerShell's types yet.
        private static object? _loader;

        public static bool Import(Checks checks, PowerShellHost host)
        {
            checks.Section("Loader (Windows PowerShell's path: no load contexts)");
            checks.That("this runtime has no AssemblyLoadContext (as .NET Framework)", () =>
                typeof(object).Assembly.GetType("System.Runtime.Loader.AssemblyLoadContext", false) is null ? null : "it has one: this is not a .NET Framework stand-in");
            checks.That("the module's folder holds AosMail.dll and no dependency beside it", () =>
                File.Exists(Path.Combine(PowerShellHost.ModuleFolder, "AosMail.dll")) && !File.Exists(Path.Combine(PowerShellHost.ModuleFolder, "AosMail.Engine.dll"))
                && !File.Exists(Path.Combine(PowerShellHost.ModuleFolder, "AosMail.MimeKit.dll")) && File.Exists(Path.Combine(PowerShellHost.BinFolder, "AosMail.MimeKit.dll"))
                    ? null : "expected AosMail.dll at the top and the engine and MimeKit in bin/ only");

            bool imported = checks.That("OnImport runs (IModuleAssemblyInitializer)", () => { OnImport(); return null; });
            if (!imported) return false;

            checks.That("the loader chose AssemblyResolve, by capability", () => HasLoadContexts() ? "it chose the load context path" : null);
            checks.That("nothing asked for System.Runtime.Loader", () =>
                host.WasRequested("System.Runtime.Loader") || PowerShellHost.Loaded("System.Runtime.Loader") != null ? "System.Runtime.Loader was looked for" : null);
            checks.That("the engine is not loaded by the import itself", () => PowerShellHost.Loaded("AosMail.Engine") is null ? null : "already loaded");
            checks.That("PowerShell's types came from the stand-in, as they would from PowerShell", () =>
                host.WasRequested("System.Management.Automation") ? null : "the loader class never needed them?");
            return true;
        }

        public static void AfterUse(Checks checks, PowerShellHost host)
        {
            checks.Section("Loader after use: where the module's assemblies came from");
            checks.That("AosMail.Engine was asked for through AssemblyResolve", () => host.WasRequested("AosMail.Engine") ? null : "no resolve request for it");
            foreach (var name in new[] { "AosMail.Engine", "AosMail.MimeKit" })
            {
                checks.That(name + " was loaded from bin/", () => FromBin(name));
            }

            checks.That("every loaded assembly that bin/ holds came from bin/ or the runtime's own library", () =>
            {
                var wrong = new List<string>();
                foreach (var file in Directory.GetFiles(PowerShellHost.BinFolder, "*.dll"))
                {
                    var loaded = PowerShellHost.Loaded(Path.GetFileNameWithoutExtension(file));
                    if (loaded is null) continue;
                    string folder = Path.GetDirectoryName(loaded.Location)!;
                    bool runtimes = loaded.GlobalAssemblyCache || folder.StartsWith(Path.GetDirectoryName(typeof(object).Assembly.Location)!, StringComparison.Ordinal);
                    Console.WriteLine("         " + loaded.GetName().Name + ": " + (folder == PowerShellHost.BinFolder ? "bin/" : loaded.Location));
                    if (folder != PowerShellHost.BinFolder && !runtimes) wrong.Add(loaded.Location);
                }

                return wrong.Count == 0 ? null : string.Join(", ", wrong);
            });
            checks.That("the dependencies Mono lacks (System.Memory, System.Buffers) were served from bin/", () =>
                FromBin("System.Memory") ?? FromBin("System.Buffers"));

            checks.That("each request for a bin/ assembly named its requester, one of the module's own (the rule needs both)", () =>
            {
                List<(string Name, Assembly? Requester)> requests;
                lock (host.Requests) requests = host.Requests.Where(r => File.Exists(Path.Combine(PowerShellHost.BinFolder, new AssemblyName(r.Name).Name + ".dll"))).ToList();
                var unnamed = requests.Where(r => r.Requester is null).Select(r => r.Name).ToList();
                var foreign = requests.Where(r => r.Requester != null && !InModule(r.Requester)).Select(r => r.Name + " <- " + r.Requester!.GetName().Name).ToList();
                return requests.Count == 0 ? "no request seen"
                    : unnamed.Count > 0 ? "no requester for " + string.Join(", ", unnamed)
                    : foreign.Count > 0 ? "asked by others: " + string.Join(", ", foreign)
                    : null;
            });

            DirectResolverChecks(checks);
            RemoveAndImportAgain(checks, host);
        }

        /// <summary>The loader's resolve policy itself, asked as the runtime asks it, with requesters that are and are not the module's.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void DirectResolverChecks(Checks checks)
        {
            var resolver = new AosMail.Internal.DependencyResolver(PowerShellHost.BinFolder);
            var mimeKit = PowerShellHost.Loaded("AosMail.MimeKit")!;
            var engine = PowerShellHost.Loaded("AosMail.Engine")!;
            checks.That("another module asking for our MimeKit gets nothing from us", () =>
                resolver.Resolve(null, new ResolveEventArgs(mimeKit.FullName, typeof(Uri).Assembly)) is null ? null : "served to System.dll's request");
            checks.That("the engine asking for MimeKit gets the copy in bin/", () =>
                resolver.Resolve(null, new ResolveEventArgs(mimeKit.FullName, engine)) == mimeKit ? null : "not the loaded bin/ copy");
            checks.That("a higher MimeKit version than bin/ holds is not served", () =>
                resolver.Resolve(null, new ResolveEventArgs("AosMail.MimeKit, Version=99.0.0.0, Culture=neutral, PublicKeyToken=null", engine)) is null ? null : "served");
        }

        /// <summary>OnRemove takes the handler away: a dependency not loaded yet is then not found; a new import finds it again.</summary>
        private static void RemoveAndImportAgain(Checks checks, PowerShellHost host)
        {
            string? name = new[] { "BouncyCastle.Cryptography", "System.Formats.Asn1", "Microsoft.Bcl.Cryptography" }
                .FirstOrDefault(n => PowerShellHost.Loaded(n) is null && File.Exists(Path.Combine(PowerShellHost.BinFolder, n + ".dll")));
            if (name is null)
            {
                checks.That("a dependency not yet loaded is left to test OnRemove", false, "all candidates are loaded");
                return;
            }

            string fullName = AssemblyName.GetAssemblyName(Path.Combine(PowerShellHost.BinFolder, name + ".dll")).FullName;
            checks.That("after OnRemove, " + name + " is no longer served", () =>
            {
                OnRemove();
                try
                {
                    Assembly.Load(fullName);
                    return "it was still found";
                }
                catch (FileNotFoundException)
                {
                    return null;
                }
            });
            checks.That("a second OnImport serves it from bin/ again", () =>
            {
                OnImport();
                return Path.GetDirectoryName(Assembly.Load(fullName).Location) == PowerShellHost.BinFolder ? null : "not from bin/";
            });
        }

        private static bool InModule(Assembly assembly)
        {
            string folder = Path.GetDirectoryName(assembly.Location)!;
            return folder == PowerShellHost.ModuleFolder || folder == PowerShellHost.BinFolder;
        }

        private static string? FromBin(string name)
        {
            var loaded = PowerShellHost.Loaded(name);
            if (loaded is null) return name + " is not loaded";
            return Path.GetDirectoryName(loaded.Location) == PowerShellHost.BinFolder ? null : name + " came from " + loaded.Location;
        }

        // What PowerShell calls on import and on Remove-Module. The loader's type needs PowerShell's
        // (the stand-in's) interfaces, so these are the first to touch it.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void OnImport() => ((AosMail.Internal.ModuleLoader)(_loader ??= new AosMail.Internal.ModuleLoader())).OnImport();

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void OnRemove() => ((AosMail.Internal.ModuleLoader)_loader!).OnRemove(null!);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool HasLoadContexts() => AosMail.Internal.ModuleLoader.HasLoadContexts;
    }
}
