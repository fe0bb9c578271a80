using System;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using AosMail.Engine;

namespace AosMail.FrameworkTests
{
    /// <summary>
    /// Faults classified by how far the request got (docs/aos-protocol.md B15), on both of Mono's
    /// HTTP stacks: a server that closes or resets the connection in the TLS handshake sent
    /// nothing, whatever exception shape the stack reports it with.
    /// </summary>
    internal static class TransportChecks
    {
        public static void Run(Checks checks, Options options)
        {
            foreach (var transport in new[] { EngineChecks.Transport.Sockets, EngineChecks.Transport.WebRequest })
            {
                checks.Section("Transport faults by stage, " + transport);
                foreach (var reset in new[] { false, true })
                {
                    checks.That("a send to a server that " + (reset ? "resets" : "closes") + " the connection in the TLS handshake: nothing was sent, a TLS failure, not retried", () =>
                    {
                        using var listener = new HandshakeBreaker(reset);
                        using var connection = Connect(new Uri("https://127.0.0.1:" + listener.Port + "/"), options, transport);
                        var error = Fails(() => Send(connection));
                        return EngineChecks.Expect(error.ErrorId == AosErrorIds.ConnectionFailed, error.ErrorId + ": " + error.Message)
                            ?? EngineChecks.Expect(error.Category == AosErrorCategory.SecurityError, "category " + error.Category + ": " + error.Message)
                            ?? EngineChecks.Expect(error.Message.Contains("Nothing was sent"), error.Message)
                            ?? EngineChecks.Expect(listener.Connections == 1, listener.Connections + " connections");
                    });
                }
            }

            CertificateDecision(checks, options);
        }

        /// <summary>
        /// B16 on the HttpWebRequest stack: the module's own certificate decision, whatever a
        /// profile set in ServicePointManager. .NET Framework's HttpClientHandler hands a handler's
        /// ServerCertificateCustomValidationCallback to each HttpWebRequest it makes, where it
        /// replaces the process-wide callback; Mono's WebRequestHandler ignores that property (and
        /// its own ServerCertificateValidationCallback), so the lane cannot run it through the
        /// module's handler. It proves the rest instead: the module's handler on this stack carries
        /// its own callback, and Mono's HttpWebRequest, given that decision per request as .NET
        /// Framework's handler gives it, decides by it and never by the process-wide callback.
        /// The sandbox is reached as "localhost", a host no earlier check used, without keep-alive,
        /// so no connection validated under another rule is reused.
        /// </summary>
        public static void CertificateDecision(Checks checks, Options options)
        {
            checks.Section("Certificates: the module's own decision beside a process-wide callback (HttpWebRequest stack)");
            var server = new UriBuilder(options.HttpsServer) { Host = "localhost", Path = "/sqVry.user.mms" }.Uri;
            var saved = ServicePointManager.ServerCertificateValidationCallback;
            try
            {
                checks.That("the module's handler on this stack carries its own certificate callback, with and without -SkipCertificateCheck", () =>
                {
                    using var strict = (WebRequestHandler)AosHttpHandlerFactory.Configure(new WebRequestHandler(), false);
                    using var lax = (WebRequestHandler)AosHttpHandlerFactory.Configure(new WebRequestHandler(), true);
                    return EngineChecks.Expect(strict.ServerCertificateCustomValidationCallback != null && lax.ServerCertificateCustomValidationCallback != null, "a handler without a callback of its own");
                });

                RemoteCertificateValidationCallback acceptAll = (sender, certificate, chain, errors) => true;
                ServicePointManager.ServerCertificateValidationCallback = acceptAll;
                checks.That("with a process-wide accept-all callback, the self-signed sandbox is refused by the module's decision", () =>
                    EngineChecks.Expect(Post(server, AosHttpHandlerFactory.CertificateDecision(false)) == "refused", "accepted"));

                ServicePointManager.ServerCertificateValidationCallback = (sender, certificate, chain, errors) =>
                    throw new InvalidOperationException("There is no Runspace available to run scripts in this thread.");
                checks.That("with a process-wide callback that throws, the module's decision still refuses the self-signed sandbox, unharmed", () =>
                {
                    var outcome = Post(server, AosHttpHandlerFactory.CertificateDecision(false));
                    return EngineChecks.Expect(outcome == "refused", outcome);
                });
                checks.That("with a process-wide callback that throws, a request with -SkipCertificateCheck's decision gets through", () =>
                {
                    var outcome = Post(server, AosHttpHandlerFactory.CertificateDecision(true));
                    return EngineChecks.Expect(outcome == "answered", outcome);
                });

                ServicePointManager.ServerCertificateValidationCallback = acceptAll;
                checks.That("a request that is not the module's still gets the process-wide callback's answer", () =>
                {
                    using (var connection = Connect(options.HttpsServer, options, EngineChecks.Transport.WebRequest))
                    {
                        // The module's handler was made; the process-wide callback must be untouched.
                    }

                    var outcome = Post(server, null);
                    return EngineChecks.Expect(ServicePointManager.ServerCertificateValidationCallback == acceptAll, "the module replaced the process-wide callback")
                        ?? EngineChecks.Expect(outcome == "answered", outcome);
                });
            }
            finally
            {
                ServicePointManager.ServerCertificateValidationCallback = saved;
            }
        }

        /// <summary>
        /// One POST on the HttpWebRequest stack with <paramref name="decision"/> as the request's own
        /// callback (as .NET Framework's HttpClientHandler sets it), or none: "answered",
        /// "refused" (a TLS trust failure), or what else happened.
        /// </summary>
        private static string Post(Uri server, Func<HttpRequestMessage, X509Certificate2?, X509Chain?, SslPolicyErrors, bool>? decision)
        {
            var request = (HttpWebRequest)WebRequest.Create(server);
            request.Method = "POST";
            request.KeepAlive = false;
            request.ContentType = "application/x-www-form-urlencoded";
            if (decision != null)
            {
                request.ServerCertificateValidationCallback = (sender, certificate, chain, errors) =>
                    decision(null!, certificate == null ? null : new X509Certificate2(certificate), chain, errors);
            }

            try
            {
                var body = System.Text.Encoding.ASCII.GetBytes("sid=x");
                using (var stream = request.GetRequestStream()) stream.Write(body, 0, body.Length);
                using (request.GetResponse()) return "answered";
            }
            catch (WebException e) when (e.Response != null)
            {
                e.Response.Dispose();
                return "answered";
            }
            catch (WebException e) when ((e.Status == WebExceptionStatus.TrustFailure || e.Status == WebExceptionStatus.SecureChannelFailure) && !e.ToString().Contains("no Runspace"))
            {
                return "refused";
            }
            catch (Exception e)
            {
                return e.ToString();
            }
        }

        internal static AosConnection Connect(Uri server, Options options, EngineChecks.Transport transport, bool skipCertificateCheck = false)
        {
            var settings = new AosConnectionSettings
            {
                Server = server,
                UserName = options.User,
                Password = EngineChecks.Secure(options.Password),
                AllowUnencryptedAuthentication = true,
                SkipCertificateCheck = skipCertificateCheck,
                Timeout = TimeSpan.FromSeconds(20),
            };
            var connection = transport == EngineChecks.Transport.Sockets
                ? new AosConnection(settings)
                : new AosConnection(settings, AosHttpHandlerFactory.Configure(new WebRequestHandler(), skipCertificateCheck));
            connection.Delay = (delay, token) => Task.CompletedTask;
            return connection;
        }

        internal static AosSubmitResult Send(AosConnection connection)
        {
            var message = new AosMessage { Subject = "transport " + Guid.NewGuid().ToString("N"), Body = "x" };
            message.To.Add("demo@sandbox.test");
            return connection.SubmitAsync(AosFormBuilder.Prepare(message, AosSubmitKind.Send), NullAosLog.Instance, CancellationToken.None).GetAwaiter().GetResult();
        }

        internal static AosException Fails(Action action)
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

        /// <summary>Accepts connections, reads the client's first TLS bytes (its hello) and closes, or resets, the connection.</summary>
        private sealed class HandshakeBreaker : IDisposable
        {
            private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
            private readonly bool _reset;
            private int _connections;

            public HandshakeBreaker(bool reset)
            {
                _reset = reset;
                _listener.Start();
                Task.Run(AcceptAsync);
            }

            public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

            public int Connections => Volatile.Read(ref _connections);

            private async Task AcceptAsync()
            {
                while (true)
                {
                    TcpClient client;
                    try
                    {
                        client = await _listener.AcceptTcpClientAsync().ConfigureAwait(false);
                    }
                    catch (Exception)
                    {
                        return;
                    }

                    Interlocked.Increment(ref _connections);
                    try
                    {
                        var hello = new byte[5];
                        await client.GetStream().ReadAsync(hello, 0, hello.Length).ConfigureAwait(false);
                        if (_reset)
                        {
                            client.Client.LingerState = new LingerOption(true, 0);
                        }
                    }
                    catch (Exception)
                    {
                        // The client went away first.
                    }

                    client.Close();
                }
            }

            public void Dispose() => _listener.Stop();
        }
    }
}
