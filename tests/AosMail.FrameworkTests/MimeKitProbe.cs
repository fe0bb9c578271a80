using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security;
using System.Text;
using System.Threading;
using AosMail.Engine;

namespace AosMail.FrameworkTests
{
    /// <summary>
    /// Windows PowerShell 5.1 with another mail module in the same session: MailKit and MimeKit
    /// 4.11 (net472, from NuGet: OtherMailModule/) loaded from their folder as a module's
    /// RequiredAssemblies loads them, beside AosMail imported through its loader. A script reaches
    /// either by type name, and 5.1 finds a name in the first loaded assembly with a public type of
    /// that name (emulated here over AppDomain.GetAssemblies(), in load order). Both load orders,
    /// each in a process of its own, as an AppDomain never lets an assembly go.
    /// </summary>
    /// <remarks>
    /// The other module is used by reflection only, as a script uses it; this program's own MimeKit
    /// references are pointed at AosMail.MimeKit by the build, like the engine's.
    /// </remarks>
    internal static class MimeKitProbe
    {
        private const string ProbeOption = "--probe";
        private const string OtherModuleOption = "--other-module";
        private const string OtherMimeKit = "MimeKit, Version=4.11.0.0, Culture=neutral, PublicKeyToken=bede1c8a46c66814";

        private static readonly string[] Orders = { "AosMailFirst", "OtherFirst" };

        public static bool IsProbe(string[] args) => args.Contains(ProbeOption);

        /// <summary>Runs each load order in a child process and counts its checks as this run's.</summary>
        public static void Run(Checks checks, string[] args)
        {
            foreach (string order in Orders)
            {
                checks.Section("MimeKit beside another module's (MailKit + MimeKit 4.11), " + (order == "OtherFirst" ? "the other module loaded first" : "AosMail used first"));
                string exe = typeof(MimeKitProbe).Assembly.Location;
                var start = new ProcessStartInfo(Process.GetCurrentProcess().MainModule!.FileName,
                    string.Join(" ", new[] { exe }.Concat(args).Concat(new[] { ProbeOption, order }).Select(Quote)))
                {
                    UseShellExecute = false,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                };
                using var child = Process.Start(start)!;
                var error = child.StandardError.ReadToEndAsync();
                int seen = 0;
                string? line;
                while ((line = child.StandardOutput.ReadLine()) != null)
                {
                    // The child's checks become this run's, printed once, by Checks.
                    if (line.StartsWith("  [pass] ", StringComparison.Ordinal)) { checks.That(line.Substring(9), true); seen++; }
                    else if (line.StartsWith("  [FAIL] ", StringComparison.Ordinal)) { checks.That(line.Substring(9), false); seen++; }
                    else Console.WriteLine(line);
                }

                child.WaitForExit();
                if (seen == 0 || child.ExitCode > 1) checks.That("the probe process ran its checks", false, "exit code " + child.ExitCode + ": " + error.Result);
            }
        }

        /// <summary>One load order, in this (child) process; exit code 0 when every check passed.</summary>
        public static int RunProbe(string[] args)
        {
            var options = Options.Parse(args);
            string order = Value(args, ProbeOption);
            string otherModule = Path.GetFullPath(Value(args, OtherModuleOption));
            var checks = new Checks();
            _ = new PowerShellHost(options.StandIn);

            if (order == "OtherFirst") LoadOtherModule(checks, otherModule);
            if (!checks.That("Import-Module AosMail (OnImport)", () => { Import(); return null; })) return 1;
            checks.That("AosMail sends HTML with an attachment" + (order == "OtherFirst" ? " after the other module loaded" : ""), () => Send(options));

            if (order != "OtherFirst")
            {
                // Add-Type -AssemblyName, RequiredAssemblies = 'MimeKit' and Assembly.Load raise
                // AssemblyResolve with no requester: nobody may hand them AosMail's copy.
                checks.That("a by-name load of another MimeKit gets nothing from AosMail", () =>
                {
                    try
                    {
                        return "it got " + Assembly.Load(OtherMimeKit).Location;
                    }
                    catch (Exception e) when (e is FileNotFoundException || e is FileLoadException)
                    {
                        return null;
                    }
                });
                LoadOtherModule(checks, otherModule);
                checks.That("AosMail sends again after the other module loaded", () => Send(options));
            }

            checks.That("[MimeKit.MimeMessage] is the other module's (5.1's lookup: first public type of that name)", () =>
            {
                var type = PowerShellTypeLookup("MimeKit.MimeMessage");
                return type is null ? "no type found"
                    : IsFrom(type, otherModule) ? null : "it is " + type.Assembly.FullName + " from " + type.Assembly.Location;
            });
            checks.That("the other module's SmtpClient.Send([MimeKit.MimeMessage]::new()) delivers", () => SendThroughOtherModule());
            checks.That("-AsMimeMessage's object is the type its own name finds in the session", () =>
            {
                var type = ReadAsMimeMessage(options).GetType();
                var found = PowerShellTypeLookup(type.FullName!);
                return found == type ? null
                    : "[" + type.FullName + "] finds " + (found is null ? "nothing" : found.Assembly.FullName) + ", the object is " + type.Assembly.FullName;
            });
            checks.That("every loaded assembly named MimeKit is the other module's", () =>
            {
                var wrong = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "MimeKit" && Path.GetDirectoryName(a.Location) != otherModule)
                    .Select(a => a.FullName + " from " + a.Location).ToList();
                return wrong.Count == 0 ? null : string.Join(", ", wrong);
            });

            Console.WriteLine($"Probe: {checks.Passed} passed, {checks.Failed} failed");
            return checks.Failed == 0 ? 0 : 1;
        }

        /// <summary>PowerShell 5.1's lookup of a type name with no assembly: the first loaded assembly with a public type of that name.</summary>
        internal static Type? PowerShellTypeLookup(string name)
        {
            foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
            {
                if (assembly.IsDynamic) continue;
                var type = assembly.GetType(name, throwOnError: false, ignoreCase: true);
                if (type != null && type.IsPublic) return type;
            }

            return null;
        }

        /// <summary>As a module's RequiredAssemblies (or Add-Type -Path) loads them: by path, MimeKit first.</summary>
        private static void LoadOtherModule(Checks checks, string folder) =>
            checks.That("the other module loads MimeKit 4.11 and MailKit from its folder", () =>
            {
                var mimeKit = Assembly.LoadFrom(Path.Combine(folder, "MimeKit.dll"));
                Assembly.LoadFrom(Path.Combine(folder, "MailKit.dll"));
                return mimeKit.GetName().Version == new Version(4, 11, 0, 0) ? null : "MimeKit " + mimeKit.GetName().Version;
            });

        /// <summary>
        /// What a Mailozaurr-style script does, by type names as PowerShell resolves them:
        /// $m = [MimeKit.MimeMessage]::new(); ...; $smtp = [MailKit.Net.Smtp.SmtpClient]::new();
        /// $smtp.Connect(...); $smtp.Send($m). Against an SMTP sink on 127.0.0.1.
        /// </summary>
        private static string? SendThroughOtherModule()
        {
            Type Find(string name) => PowerShellTypeLookup(name) ?? throw new InvalidOperationException("[" + name + "] is not found");
            var message = Activator.CreateInstance(Find("MimeKit.MimeMessage"))!;
            var mailbox = Find("MimeKit.MailboxAddress");
            object Address(string address) => mailbox.GetMethod("Parse", new[] { typeof(string) })!.Invoke(null, new object[] { address })!;
            Add(message.GetType().GetProperty("From")!.GetValue(message)!, Address("other@sandbox.test"));
            Add(message.GetType().GetProperty("To")!.GetValue(message)!, Address("someone@sandbox.test"));
            string subject = "other module " + Guid.NewGuid().ToString("N");
            message.GetType().GetProperty("Subject")!.SetValue(message, subject);
            var text = Activator.CreateInstance(Find("MimeKit.TextPart"), "plain")!;
            text.GetType().GetProperty("Text")!.SetValue(text, "sent through MailKit");
            message.GetType().GetProperty("Body")!.SetValue(message, text);

            using var sink = new SmtpSink();
            var smtpType = Find("MailKit.Net.Smtp.SmtpClient");
            var smtp = (IDisposable)Activator.CreateInstance(smtpType)!;
            using (smtp)
            {
                var connect = smtpType.GetMethods().Single(m => m.Name == "Connect" && m.GetParameters().Select(p => p.ParameterType.Name).SequenceEqual(new[] { "String", "Int32", "SecureSocketOptions", "CancellationToken" }));
                connect.Invoke(smtp, new[] { "127.0.0.1", sink.Port, Enum.Parse(connect.GetParameters()[2].ParameterType, "None"), CancellationToken.None });
                var send = smtpType.GetMethods().Single(m => m.Name == "Send" && m.GetParameters().Length == 3 && m.GetParameters()[0].ParameterType.Name == "MimeMessage");
                try
                {
                    send.Invoke(smtp, new[] { message, CancellationToken.None, null });
                }
                catch (ArgumentException e)
                {
                    // What PowerShell reports as "cannot be converted to type 'MimeKit.MimeMessage'".
                    return e.Message;
                }

                smtpType.GetMethod("Disconnect", new[] { typeof(bool), typeof(CancellationToken) })!.Invoke(smtp, new object[] { true, CancellationToken.None });
            }

            return sink.Received.Contains("Subject: " + subject) ? null : "the sink did not receive the message";
        }

        private static void Add(object list, object address) => list.GetType().GetMethod("Add", new[] { address.GetType().BaseType! })!.Invoke(list, new[] { address });

        private static bool IsFrom(Type type, string folder) => Path.GetDirectoryName(type.Assembly.Location) == folder;

        private static string Value(string[] args, string option)
        {
            int i = Array.IndexOf(args, option);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : throw new ArgumentException("missing " + option);
        }

        private static string Quote(string arg) => "\"" + arg.Replace("\"", "\\\"") + "\"";

        // What PowerShell calls on import. Kept apart: the loader's type needs PowerShell's (the stand-in's).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Import() => new AosMail.Internal.ModuleLoader().OnImport();

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string? Send(Options options) => AosMailRun.Send(options, html: true) == "OK" ? null : "the server did not answer OK";

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static object ReadAsMimeMessage(Options options) => AosMailRun.SendAndReadMime(options);

        /// <summary>The engine's own calls; a class of its own so that naming engine types waits for the import.</summary>
        private static class AosMailRun
        {
            public static string Send(Options options, bool html)
            {
                using var connection = Connect(options);
                return Submit(connection, Message(html), out _);
            }

            public static object SendAndReadMime(Options options)
            {
                using var connection = Connect(options);
                string answer = Submit(connection, Message(html: false), out string subject);
                if (answer != "OK") throw new InvalidOperationException("the server answered " + answer);
                var listed = connection.ListMessagesAsync(connection.InboxMailbox, 0, NoLog.Instance, CancellationToken.None).GetAwaiter().GetResult().Messages
                    .Single(m => m.Subject == subject);
                return connection.ReadMimeMessageAsync(connection.InboxMailbox, listed.Id, NoLog.Instance, CancellationToken.None).GetAwaiter().GetResult();
            }

            private static AosConnection Connect(Options options)
            {
                var password = new SecureString();
                foreach (char c in options.Password) password.AppendChar(c);
                var connection = new AosConnection(new AosConnectionSettings
                {
                    Server = options.Server,
                    UserName = options.User,
                    Password = password,
                    AllowUnencryptedAuthentication = true,
                });
                connection.LoginAsync(NoLog.Instance, CancellationToken.None).GetAwaiter().GetResult();
                return connection;
            }

            private static AosMessage Message(bool html)
            {
                var message = new AosMessage { Subject = "probe " + Guid.NewGuid().ToString("N"), Body = html ? "<p>probe</p>" : "probe", BodyIsHtml = html };
                message.To.Add("demo@sandbox.test");
                if (html)
                {
                    string path = Path.Combine(Path.GetTempPath(), "aosmail-probe-" + Guid.NewGuid().ToString("N") + ".bin");
                    File.WriteAllBytes(path, new byte[] { 1, 2, 3, 4 });
                    message.Attachments.Add(AosAttachmentSource.FromFile(path));
                }

                return message;
            }

            private static string Submit(AosConnection connection, AosMessage message, out string subject)
            {
                subject = message.Subject!;
                return connection.SubmitAsync(AosFormBuilder.Prepare(message, AosSubmitKind.Send), NoLog.Instance, CancellationToken.None).GetAwaiter().GetResult().ServerAnswer;
            }
        }

        private sealed class NoLog : IAosLog
        {
            public static readonly NoLog Instance = new NoLog();
            public bool IsVerboseEnabled => false;
            public bool IsDebugEnabled => false;
            public void Verbose(string message) { }
            public void Debug(string message) { }
        }

        /// <summary>Just enough SMTP to take one message on 127.0.0.1 and keep what DATA carried.</summary>
        private sealed class SmtpSink : IDisposable
        {
            private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
            private readonly Thread _thread;
            private readonly StringBuilder _data = new StringBuilder();

            public SmtpSink()
            {
                _listener.Start();
                _thread = new Thread(Serve) { IsBackground = true };
                _thread.Start();
            }

            public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

            public string Received
            {
                get
                {
                    _thread.Join(TimeSpan.FromSeconds(10));
                    lock (_data) return _data.ToString();
                }
            }

            private void Serve()
            {
                try
                {
                    using var client = _listener.AcceptTcpClient();
                    using var stream = client.GetStream();
                    var reader = new StreamReader(stream, Encoding.ASCII);
                    var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
                    writer.WriteLine("220 sink ready");
                    string? line;
                    while ((line = reader.ReadLine()) != null)
                    {
                        string verb = line.Split(' ')[0].ToUpperInvariant();
                        if (verb == "DATA")
                        {
                            writer.WriteLine("354 go on");
                            while ((line = reader.ReadLine()) != null && line != ".")
                            {
                                lock (_data) _data.Append(line).Append("\r\n");
                            }

                            writer.WriteLine("250 queued");
                        }
                        else if (verb == "QUIT")
                        {
                            writer.WriteLine("221 bye");
                            return;
                        }
                        else
                        {
                            writer.WriteLine("250 ok");
                        }
                    }
                }
                catch (Exception e) when (e is IOException || e is SocketException || e is ObjectDisposedException)
                {
                    // The client went away: what arrived is what Received reports.
                }
            }

            public void Dispose() => _listener.Stop();
        }
    }
}
