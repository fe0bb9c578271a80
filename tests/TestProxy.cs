// A forward HTTP proxy on 127.0.0.1 for tests/Proxy.Tests.ps1, compiled by Start-TestProxy
// (tests/TestHelpers.psm1). It records every request it sees (method, target, the
// Proxy-Authorization it got) and, when it is given a user name and password, answers a
// request without the right Basic credential with 407. Plain HTTP requests (absolute-form
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
    }

    public sealed class TestProxy : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly string? _expected;

        public TestProxy(string? userName, string? password)
        {
            if (!string.IsNullOrEmpty(userName))
            {
                _expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(userName + ":" + password));
            }

            _listener.Start();
            Uri = new Uri("http://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port);
            _ = AcceptAsync();
        }

        public Uri Uri { get; }

        public ConcurrentQueue<TestProxyRequest> Requests { get; } = new ConcurrentQueue<TestProxyRequest>();

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
                    var record = new TestProxyRequest { Method = requestLine[0], Target = requestLine[1], ProxyAuthorization = Header("Proxy-Authorization") };
                    Requests.Enqueue(record);
                    long length = long.TryParse(Header("Content-Length"), out var parsed) ? parsed : 0;

                    if (_expected != null && record.ProxyAuthorization != _expected)
                    {
                        await CopyAsync(stream, Stream.Null, length);
                        record.Status = 407;
                        await WriteAsync(stream, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"aos-test-proxy\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
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
                        var forward = new StringBuilder(record.Method + " " + target.PathAndQuery + " HTTP/1.1\r\n");
                        foreach (var header in headers)
                        {
                            if (header.Key.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase)
                                || string.Equals(header.Key, "Connection", StringComparison.OrdinalIgnoreCase)
                                || string.Equals(header.Key, "Keep-Alive", StringComparison.OrdinalIgnoreCase)) continue;
                            forward.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
                        }

                        // One request per connection both ways: the answer then ends when upstream closes.
                        forward.Append("Connection: close\r\n\r\n");
                        await WriteAsync(up, forward.ToString());
                        await CopyAsync(stream, up, length);
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

        private static async Task CopyAsync(Stream from, Stream to, long count)
        {
            var buffer = new byte[81920];
            while (count > 0)
            {
                int read = await from.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, count));
                if (read == 0) throw new IOException("The client closed before its body was complete.");
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
