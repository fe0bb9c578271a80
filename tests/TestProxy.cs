// A forward HTTP proxy on 127.0.0.1 for tests/Proxy.Tests.ps1, compiled by Start-TestProxy
// (tests/TestHelpers.psm1). It records every request it sees (method, target, the
// Proxy-Authorization it got) and, when it is given a user name and password, answers a
// request without the right credential with 407: Basic, or Digest (RFC 7616, MD5, qop=auth)
// when Scheme says so. It counts the request body bytes it reads (BodyBytes), so a test can
// tell a body that crossed the link twice. Plain HTTP requests (absolute-form
// targets) are forwarded one per connection; CONNECT opens a tunnel (https). It is a test
// fixture, not a general proxy: no chunked request bodies, no pipelining.
#nullable enable
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Tests
{
    public sealed class TestProxyRequest
    {
        public string Method { get; set; } = "";
        public string Target { get; set; } = "";

        /// <summary>The Proxy-Authorization header as received, or null.</summary>
        public string? ProxyAuthorization { get; set; }

        /// <summary>407 when refused; 200 for a CONNECT tunnel; else the upstream answer's status (502 if none).</summary>
        public int Status { get; set; }

        /// <summary>The Expect header as received, or null.</summary>
        public string? Expect { get; set; }

        /// <summary>The body bytes read from the client for this request (0 when refused at once).</summary>
        public long BodyBytes { get; set; }
    }

    public sealed class TestProxy : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly string _nonce = Guid.NewGuid().ToString("N");
        private volatile string? _userName;
        private volatile string? _password;
        private long _bodyBytes;

        public TestProxy(string? userName, string? password)
        {
            SetCredential(userName, password);
            _listener.Start();
            Uri = new Uri("http://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port);
            _ = AcceptAsync();
        }

        public Uri Uri { get; }

        public ConcurrentQueue<TestProxyRequest> Requests { get; } = new ConcurrentQueue<TestProxyRequest>();

        /// <summary>"Basic" (the default) or "Digest": the scheme the proxy asks for and accepts.</summary>
        public string Scheme { get; set; } = "Basic";

        /// <summary>
        /// When true, a request without the right credential is answered 407 as soon as its head
        /// has arrived, and the connection is closed without reading the body (as Squid does);
        /// otherwise the body is read first.
        /// </summary>
        public bool RefuseAtOnce { get; set; }

        /// <summary>The request body bytes read from clients so far, refused requests included.</summary>
        public long BodyBytes => Interlocked.Read(ref _bodyBytes);

        /// <summary>The credential the proxy wants from now on (null: none).</summary>
        public void SetCredential(string? userName, string? password)
        {
            _password = password;
            _userName = string.IsNullOrEmpty(userName) ? null : userName;
        }

        public void Clear()
        {
            while (Requests.TryDequeue(out _)) { }
            Interlocked.Exchange(ref _bodyBytes, 0);
        }

        public void Dispose() => _listener.Stop();

        private async Task AcceptAsync()
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception)
                {
                    return;  // stopped
                }

                _ = Task.Run(() => HandleAsync(client));
            }
        }

        private async Task HandleAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    var head = await ReadHeadAsync(stream);
                    if (head == null) return;
                    var lines = head.Split(new[] { "\r\n" }, StringSplitOptions.None);
                    var requestLine = lines[0].Split(' ');
                    var headers = new List<KeyValuePair<string, string>>();
                    for (int i = 1; i < lines.Length; i++)
                    {
                        int colon = lines[i].IndexOf(':');
                        if (colon > 0) headers.Add(new KeyValuePair<string, string>(lines[i].Substring(0, colon).Trim(), lines[i].Substring(colon + 1).Trim()));
                    }

                    string? Header(string name) => headers.Find(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
                    var record = new TestProxyRequest { Method = requestLine[0], Target = requestLine[1], ProxyAuthorization = Header("Proxy-Authorization"), Expect = Header("Expect") };
                    Requests.Enqueue(record);
                    long length = long.TryParse(Header("Content-Length"), out var parsed) ? parsed : 0;

                    if (!Authorized(record.Method, record.ProxyAuthorization))
                    {
                        if (!RefuseAtOnce)
                        {
                            await CopyAsync(stream, Stream.Null, length, record);
                        }

                        record.Status = 407;
                        var challenge = Scheme == "Digest"
                            ? "Digest realm=\"" + Realm + "\", nonce=\"" + _nonce + "\", qop=\"auth\", algorithm=MD5"
                            : "Basic realm=\"" + Realm + "\"";
                        await WriteAsync(stream, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: " + challenge + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        return;
                    }

                    if (record.Method == "CONNECT")
                    {
                        var authority = record.Target.Split(':');
                        using (var upstream = new TcpClient())
                        {
                            if (!await ConnectAsync(upstream, authority[0], int.Parse(authority[1]), stream, record)) return;
                            record.Status = 200;
                            await WriteAsync(stream, "HTTP/1.1 200 Connection established\r\n\r\n");
                            var up = upstream.GetStream();
                            await Task.WhenAny(stream.CopyToAsync(up), up.CopyToAsync(stream));
                        }

                        return;
                    }

                    var target = new Uri(record.Target);
                    using (var upstream = new TcpClient())
                    {
                        if (!await ConnectAsync(upstream, target.Host, target.Port, stream, record)) return;
                        var up = upstream.GetStream();
                        // Expect: 100-continue is answered here, as the proxy has nothing against the body.
                        bool expectContinue = string.Equals(record.Expect, "100-continue", StringComparison.OrdinalIgnoreCase);
                        if (expectContinue) await WriteAsync(stream, "HTTP/1.1 100 Continue\r\n\r\n");
                        var forward = new StringBuilder(record.Method + " " + target.PathAndQuery + " HTTP/1.1\r\n");
                        foreach (var header in headers)
                        {
                            if (header.Key.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase)
                                || string.Equals(header.Key, "Connection", StringComparison.OrdinalIgnoreCase)
                                || string.Equals(header.Key, "Keep-Alive", StringComparison.OrdinalIgnoreCase)
                                || (expectContinue && string.Equals(header.Key, "Expect", StringComparison.OrdinalIgnoreCase))) continue;
                            forward.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
                        }

                        // One request per connection both ways: the answer then ends when upstream closes.
                        forward.Append("Connection: close\r\n\r\n");
                        await WriteAsync(up, forward.ToString());
                        await CopyAsync(stream, up, length, record);
                        var answer = new MemoryStream();
                        await up.CopyToAsync(answer);
                        var bytes = answer.ToArray();
                        var status = Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 12)).Split(' ');
                        record.Status = status.Length > 1 && int.TryParse(status[1], out var code) ? code : 502;
                        await stream.WriteAsync(bytes, 0, bytes.Length);
                    }
                }
                catch (Exception e) when (e is IOException || e is SocketException || e is ObjectDisposedException)
                {
                    // A client or upstream that went away: the connection just ends.
                }
            }
        }

        /// <summary>Connects upstream, or answers 502 (as a proxy does) and says so.</summary>
        private static async Task<bool> ConnectAsync(TcpClient upstream, string host, int port, Stream client, TestProxyRequest record)
        {
            try
            {
                await upstream.ConnectAsync(host, port);
                return true;
            }
            catch (SocketException)
            {
                record.Status = 502;
                await WriteAsync(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                return false;
            }
        }

        /// <summary>The request line and headers, up to the empty line; null when the client closed first.</summary>
        private static async Task<string?> ReadHeadAsync(Stream stream)
        {
            var head = new MemoryStream();
            var one = new byte[1];
            while (true)
            {
                if (await stream.ReadAsync(one, 0, 1) == 0) return null;
                head.WriteByte(one[0]);
                var length = head.Length;
                if (length >= 4)
                {
                    var buffer = head.GetBuffer();
                    if (buffer[length - 4] == '\r' && buffer[length - 3] == '\n' && buffer[length - 2] == '\r' && buffer[length - 1] == '\n')
                    {
                        return Encoding.ASCII.GetString(buffer, 0, (int)length - 4);
                    }
                }
            }
        }

        private const string Realm = "aos-test-proxy";

        private bool Authorized(string method, string? header)
        {
            var user = _userName;
            if (user == null) return true;
            if (header == null) return false;
            if (Scheme != "Digest")
            {
                return header == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + _password));
            }

            if (!header.StartsWith("Digest ", StringComparison.OrdinalIgnoreCase)) return false;
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var part in header.Substring(7).Split(','))
            {
                int equals = part.IndexOf('=');
                if (equals > 0) values[part.Substring(0, equals).Trim()] = part.Substring(equals + 1).Trim().Trim('"');
            }

            string Get(string name) => values.TryGetValue(name, out var value) ? value : "";
            var ha1 = Md5(user + ":" + Realm + ":" + _password);
            var ha2 = Md5(method + ":" + Get("uri"));
            var expected = Md5(ha1 + ":" + _nonce + ":" + Get("nc") + ":" + Get("cnonce") + ":" + Get("qop") + ":" + ha2);
            return Get("username") == user && Get("realm") == Realm && Get("nonce") == _nonce && Get("qop") == "auth" && Get("response") == expected;
        }

        private static string Md5(string text)
        {
            using (var md5 = System.Security.Cryptography.MD5.Create())
            {
                return BitConverter.ToString(md5.ComputeHash(Encoding.UTF8.GetBytes(text))).Replace("-", "").ToLowerInvariant();
            }
        }

        private async Task CopyAsync(Stream from, Stream to, long count, TestProxyRequest record)
        {
            var buffer = new byte[81920];
            while (count > 0)
            {
                int read = await from.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, count));
                if (read == 0) throw new IOException("The client closed before its body was complete.");
                Interlocked.Add(ref _bodyBytes, read);
                record.BodyBytes += read;
                await to.WriteAsync(buffer, 0, read);
                count -= read;
            }
        }

        private static Task WriteAsync(Stream stream, string text)
        {
            var bytes = Encoding.ASCII.GetBytes(text);
            return stream.WriteAsync(bytes, 0, bytes.Length);
        }
    }
}
