using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using AosMail.Engine;
using MimeKit;

namespace AosMail.FrameworkTests
{
    /// <summary>
    /// The engine against the sandbox on Mono, over each of its two HTTP stacks: the default one
    /// (what a connection gets here) and the HttpWebRequest one, which is what HttpClientHandler is
    /// on .NET Framework, so its faults come as WebExceptions as they do in Windows PowerShell.
    /// </summary>
    internal static class EngineChecks
    {
        internal enum Transport
        {
            Sockets,
            WebRequest,
        }

        private static readonly CancellationToken None = CancellationToken.None;

        public static void Run(Checks checks, Options options, Transport transport)
        {
            checks.Section("Engine on Mono, " + (transport == Transport.Sockets
                ? "default HttpClientHandler"
                : "HttpWebRequest handler (.NET Framework's HttpClientHandler is this one)"));
            var run = new EngineRun(checks, options, transport);
            run.SendAndReadBack();
            run.Drafts();
            run.Faults();
            if (transport == Transport.Sockets)
            {
                // Mono's HttpWebRequest handler ignores ServerCertificateCustomValidationCallback and
                // has no MaxConnectionsPerServer (.NET Framework's has both from 4.7.1): these two
                // can only be proven there (docs/windows-powershell.md).
                run.SkipCertificateCheck();
                run.ParallelSends();
            }
            else
            {
                run.PinnedOldTls();
            }

            run.NoSecretsInTheLog();
        }

        private sealed class EngineRun
        {
            private readonly Checks _checks;
            private readonly Options _options;
            private readonly Transport _transport;
            private readonly string _tag;
            private readonly ListLog _log = new ListLog();
            private readonly AosConnection _connection;
            private byte[] _lastRaw = new byte[0];

            public EngineRun(Checks checks, Options options, Transport transport)
            {
                _checks = checks;
                _options = options;
                _transport = transport;
                _tag = transport + " " + Guid.NewGuid().ToString("N").Substring(0, 8);
                _connection = Connect(options.Server);
            }

            private AosConnection Connect(Uri server, bool skipCertificateCheck = false)
            {
                var settings = new AosConnectionSettings
                {
                    Server = server,
                    UserName = _options.User,
                    Password = Secure(_options.Password),
                    AllowUnencryptedAuthentication = true,
                    SkipCertificateCheck = skipCertificateCheck,
                };
                var connection = _transport == Transport.Sockets
                    ? new AosConnection(settings)
                    : new AosConnection(settings, AosHttpHandlerFactory.Configure(new WebRequestHandler(), skipCertificateCheck));
                connection.Delay = (delay, token) => Task.CompletedTask; // retries without the back-off waits
                return connection;
            }

            public void SendAndReadBack()
            {
                _checks.That("logs in", () =>
                {
                    _connection.LoginAsync(_log, None).GetAwaiter().GetResult();
                    return _connection.IsLoggedIn ? null : "not logged in";
                });
                _checks.That("the session check says the session is alive", () => _connection.TestAsync(_log, None).GetAwaiter().GetResult() ? null : "sqVry said false");

                _checks.That("sends a plain message and reads it back from the Inbox", () =>
                {
                    var message = Mail("plain " + _tag, "Hello from Mono.\nSecond line.");
                    message.Priority = 2;
                    message.Headers.Add(new System.Collections.Generic.KeyValuePair<string, string>("X-Lane", "framework"));
                    var stored = SendAndRead(message);
                    return Expect(Encoding.UTF8.GetString(_lastRaw).Contains("\r\n\r\nHello from Mono.\r\nSecond line."), "the stored body does not have CRLF line ends")
                        ?? Expect(stored.From.Mailboxes.Single().Address == "demo@sandbox.test", "From was " + stored.From)
                        ?? Expect(stored.Headers["X-Lane"] == "framework", "X-Lane was " + stored.Headers["X-Lane"])
                        ?? Expect(stored.Headers["X-Priority"] == "2", "X-Priority was " + stored.Headers["X-Priority"]);
                });

                _checks.That("sends non-ASCII text as UTF-8 and a subject as encoded-words", () =>
                {
                    var stored = SendAndRead(Mail("Größe ünd Ärger " + _tag, "Grüße aus Zürich: 5 €"));
                    return Expect(Text(stored) == "Grüße aus Zürich: 5 €", "body was " + Quote(Text(stored)))
                        ?? Expect((stored.Body as TextPart)?.ContentType.Charset?.ToLowerInvariant() == "utf-8", "charset was " + (stored.Body as TextPart)?.ContentType.Charset);
                });

                _checks.That("sends HTML with a text alternative", () =>
                {
                    var message = Mail("html " + _tag, "<p>Hello <b>HTML</b></p>");
                    message.BodyIsHtml = true;
                    var stored = SendAndRead(message);
                    return Expect(stored.HtmlBody?.Contains("<b>HTML</b>") == true, "HTML part was " + Quote(stored.HtmlBody));
                });

                _checks.That("sends an attachment whose bytes arrive intact", () =>
                {
                    string path = Path.Combine(Path.GetTempPath(), "aosmail-lane-" + Guid.NewGuid().ToString("N") + ".bin");
                    var bytes = new byte[300_000];
                    new Random(12).NextBytes(bytes);
                    File.WriteAllBytes(path, bytes);
                    try
                    {
                        var message = Mail("attachment " + _tag, "See the attachment.");
                        message.Attachments.Add(AosAttachmentSource.FromFile(path));
                        var stored = SendAndRead(message);
                        var part = stored.Attachments.OfType<MimePart>().SingleOrDefault();
                        if (part is null) return "no attachment in the stored message";
                        using var decoded = new MemoryStream();
                        part.Content!.DecodeTo(decoded);
                        return Expect(part.FileName == Path.GetFileName(path), "file name was " + part.FileName)
                            ?? Expect(Hash(decoded.ToArray()) == Hash(bytes), "the attachment's bytes differ");
                    }
                    finally
                    {
                        File.Delete(path);
                    }
                });
            }

            public void Drafts()
            {
                string? draftId = null;
                _checks.That("saves a draft and finds its id", () =>
                {
                    var message = Mail("draft " + _tag, "first version");
                    var saved = SaveDraft(message);
                    draftId = saved.DraftId;
                    return Expect(draftId != null, "no id: " + saved.Problem);
                });
                _checks.That("reads the draft back from the Draft mailbox", () =>
                {
                    var stored = Read(_connection.DraftMailbox, draftId!);
                    return Expect(stored.Subject == "draft " + _tag, "subject was " + stored.Subject)
                        ?? Expect(Text(stored) == "first version", "body was " + Quote(Text(stored)));
                });
                _checks.That("overwrites the draft in place", () =>
                {
                    var message = Mail("draft v2 " + _tag, "second version");
                    message.DraftId = draftId;
                    var saved = SaveDraft(message);
                    var stored = Read(_connection.DraftMailbox, draftId!);
                    return Expect(saved.DraftId == draftId, "the id changed to " + saved.DraftId)
                        ?? Expect(stored.Subject == "draft v2 " + _tag && Text(stored) == "second version", "read back " + stored.Subject);
                });
            }

            public void SkipCertificateCheck()
            {
                _checks.That("over HTTPS with -SkipCertificateCheck: logs in and sends", () =>
                {
                    using var connection = Connect(_options.HttpsServer, skipCertificateCheck: true);
                    var result = Submit(connection, Mail("https " + _tag, "over TLS"));
                    return Expect(result.ServerAnswer == "OK", "answer " + result.ServerAnswer);
                });
            }

            /// <summary>
            /// powershell.exe pins SSL 3 and TLS 1.0 in ServicePointManager on machines without the
            /// strong-crypto registry settings; the sandbox speaks TLS 1.2 and 1.3 only. The
            /// certificate is accepted through the process-wide callback this stack honours.
            /// </summary>
            public void PinnedOldTls()
            {
                var protocols = ServicePointManager.SecurityProtocol;
                var callback = ServicePointManager.ServerCertificateValidationCallback;
                try
                {
                    ServicePointManager.ServerCertificateValidationCallback = (sender, certificate, chain, errors) => true;
                    ServicePointManager.SecurityProtocol = SecurityProtocolType.Tls;
                    _checks.That("TLS 1.0 alone cannot reach the sandbox (so the next check can fail)", () =>
                    {
                        using var plain = new HttpClient(new WebRequestHandler());
                        try
                        {
                            plain.GetAsync(new Uri(_options.HttpsServer, "/sqVry.user.mms")).GetAwaiter().GetResult().Dispose();
                            return "it connected";
                        }
                        catch (HttpRequestException)
                        {
                            return null;
                        }
                    });
                    _checks.That("with the process pinned to TLS 1.0, a connection adds TLS 1.2 and sends over HTTPS", () =>
                    {
                        using var connection = Connect(_options.HttpsServer);
                        var result = Submit(connection, Mail("pinned tls " + _tag, "over TLS 1.2"));
                        return Expect(result.ServerAnswer == "OK", "answer " + result.ServerAnswer)
                            ?? Expect(ServicePointManager.SecurityProtocol == (SecurityProtocolType.Tls | SecurityProtocolType.Tls12), "protocols now " + ServicePointManager.SecurityProtocol);
                    });
                }
                finally
                {
                    ServicePointManager.SecurityProtocol = protocols;
                    ServicePointManager.ServerCertificateValidationCallback = callback;
                }
            }

            public void Faults()
            {
                _checks.That("over HTTPS a self-signed certificate is refused: nothing sent, a security error", () =>
                {
                    using var connection = Connect(_options.HttpsServer);
                    var error = Fails(() => Submit(connection, Mail("refused " + _tag, "x")));
                    return Expect(error.ErrorId == AosErrorIds.ConnectionFailed, error.ErrorId + ": " + error.Message)
                        ?? Expect(error.Category == AosErrorCategory.SecurityError, "category " + error.Category + ": " + error.Message)
                        ?? ExpectCause(error, null)
                        ?? Expect(Find("refused " + _tag) == 0, "a message arrived");
                });
                _checks.That("a send to a name that does not resolve: nothing was sent, never outcome unknown", () =>
                {
                    using var connection = Connect(new Uri("http://aosmail-framework-lane.invalid/"));
                    var error = Fails(() => Submit(connection, Mail("dns " + _tag, "x")));
                    return Expect(error.ErrorId == AosErrorIds.ConnectionFailed && error.Message.Contains("Nothing was sent"), error.ErrorId + ": " + error.Message)
                        ?? ExpectCause(error, "NameResolutionFailure");
                });
                _checks.That("a send to a closed port: nothing was sent", () =>
                {
                    var listener = new TcpListener(IPAddress.Loopback, 0);
                    listener.Start();
                    int port = ((IPEndPoint)listener.LocalEndpoint).Port;
                    listener.Stop();
                    using var connection = Connect(new Uri("http://127.0.0.1:" + port + "/"));
                    var error = Fails(() => Submit(connection, Mail("refused port " + _tag, "x")));
                    return Expect(error.ErrorId == AosErrorIds.ConnectionFailed && error.Message.Contains("Nothing was sent"), error.ErrorId + ": " + error.Message)
                        ?? ExpectCause(error, "ConnectFailure");
                });
                _checks.That("the connection dropped after the server acted: outcome unknown, sent once, not resent", () =>
                {
                    Sandbox.AddFault(_options.Server, "sdmailact", "dropAfter");
                    string subject = "dropped " + _tag;
                    var error = Fails(() => Submit(_connection, Mail(subject, "x")));
                    return Expect(error.ErrorId == AosErrorIds.OutcomeUnknown, error.ErrorId + ": " + error.Message)
                        ?? Expect(Find(subject) == 1, Find(subject) + " copies arrived")
                        ?? ExpectCause(error, null);
                });
            }

            public void ParallelSends()
            {
                _checks.That("six parallel sends are not held to two connections", () =>
                {
                    const int count = 6;
                    const int delayMs = 800;
                    Sandbox.AddFault(_options.Server, "sdmailact", "delay", delayMs, count);
                    var watch = Stopwatch.StartNew();
                    var sends = Enumerable.Range(0, count).Select(i => _connection.SubmitAsync(AosFormBuilder.Prepare(Mail("parallel " + i + " " + _tag, "x"), AosSubmitKind.Send), _log, None)).ToArray();
                    Task.WaitAll(sends);
                    watch.Stop();
                    // Two at a time would take three rounds of the server's delay.
                    return Expect(watch.ElapsedMilliseconds < 2 * delayMs + 400, "took " + watch.ElapsedMilliseconds + " ms");
                });
            }

            public void NoSecretsInTheLog()
            {
                _checks.That("the verbose and debug lines name no password and no session id", () =>
                {
                    var leaks = _log.Lines.Where(l => l.Contains(_options.Password) || System.Text.RegularExpressions.Regex.IsMatch(l, "SID[A-Za-z0-9]{4,}")).ToList();
                    return Expect(_log.Lines.Count > 10 && leaks.Count == 0, leaks.Count == 0 ? "only " + _log.Lines.Count + " lines" : leaks.First());
                });
                _connection.Dispose();
            }

            private static AosMessage Mail(string subject, string body)
            {
                var message = new AosMessage { Subject = subject, Body = body };
                message.To.Add("demo@sandbox.test");
                return message;
            }

            private AosSubmitResult Submit(AosConnection connection, AosMessage message) =>
                connection.SubmitAsync(AosFormBuilder.Prepare(message, AosSubmitKind.Send), _log, None).GetAwaiter().GetResult();

            private AosDraftSaveResult SaveDraft(AosMessage message) =>
                _connection.SaveDraftAsync(AosFormBuilder.Prepare(message, AosSubmitKind.SaveDraft), _log, None).GetAwaiter().GetResult();

            private MimeMessage SendAndRead(AosMessage message)
            {
                var result = Submit(_connection, message);
                if (result.ServerAnswer != "OK") throw new InvalidOperationException("the server answered " + result.ServerAnswer);
                var listed = _connection.ListMessagesAsync(_connection.InboxMailbox, 0, _log, None).GetAwaiter().GetResult().Messages
                    .Where(m => m.Subject == message.Subject).ToList();
                if (listed.Count != 1) throw new InvalidOperationException(listed.Count + " messages in the Inbox with the subject " + Quote(message.Subject));
                var stored = Read(_connection.InboxMailbox, listed[0].Id);
                if (stored.Subject != message.Subject) throw new InvalidOperationException("the stored subject is " + Quote(stored.Subject));
                return stored;
            }

            private MimeMessage Read(string mailbox, string id)
            {
                _lastRaw = _connection.ReadMessageAsync(mailbox, id, _log, None).GetAwaiter().GetResult();
                return MimeMessage.Load(new MemoryStream(_lastRaw));
            }

            /// <summary>How many messages in the Inbox have this subject.</summary>
            private int Find(string subject) =>
                _connection.ListMessagesAsync(_connection.InboxMailbox, 0, _log, None).GetAwaiter().GetResult().Messages.Count(m => m.Subject == subject);

            /// <summary>On the HttpWebRequest stack the cause must be a WebException (with this status, when given), as .NET Framework reports it.</summary>
            private string? ExpectCause(AosException error, string? status)
            {
                if (_transport != Transport.WebRequest) return null;
                for (Exception? e = error.InnerException; e != null; e = e.InnerException)
                {
                    if (e is WebException web) return Expect(status is null || web.Status.ToString() == status, "WebException status " + web.Status);
                }

                return "no WebException behind " + error.InnerException?.GetType().Name;
            }

            private static AosException Fails(Action action)
            {
                try
                {
                    action();
                }
                catch (AosException error)
                {
                    return error;
                }

                throw new InvalidOperationException("it did not fail");
            }
        }

        internal static string? Expect(bool ok, string problem) => ok ? null : problem;

        private static string Text(MimeMessage message) => (message.TextBody ?? "").TrimEnd();

        private static string Quote(string? text) => text is null ? "(none)" : "'" + text.Replace("\r", "\\r").Replace("\n", "\\n") + "'";

        private static string Hash(byte[] bytes)
        {
            using var sha = SHA256.Create();
            return Convert.ToBase64String(sha.ComputeHash(bytes));
        }

        internal static SecureString Secure(string text)
        {
            var secure = new SecureString();
            foreach (char c in text) secure.AppendChar(c);
            secure.MakeReadOnly();
            return secure;
        }

        private sealed class ListLog : IAosLog
        {
            public ConcurrentQueue<string> Lines { get; } = new ConcurrentQueue<string>();
            public bool IsVerboseEnabled => true;
            public bool IsDebugEnabled => true;
            public void Verbose(string message) => Lines.Enqueue(message);
            public void Debug(string message) => Lines.Enqueue(message);
        }
    }

    /// <summary>The sandbox's control API (docs/sandbox.md), over a plain HttpClient.</summary>
    internal static class Sandbox
    {
        private static readonly HttpClient Client = new HttpClient();

        public static void AddFault(Uri server, string command, string action, int delayMs = 0, int times = 1)
        {
            string json = "{\"command\":\"" + command + "\",\"action\":\"" + action + "\",\"delayMs\":" + delayMs + ",\"times\":" + times + "}";
            using var response = Client.PostAsync(new Uri(server, "/_sandbox/faults"), new StringContent(json, Encoding.UTF8, "application/json")).GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException("the sandbox refused the fault: " + response.StatusCode + " " + response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
            }
        }
    }
}
