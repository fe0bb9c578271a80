// The "encode" bench section's server (bench/LargeSend.ps1): it reads a send's form and throws it
// away, so a large send measures the client and not the sandbox taking 1.4 GB of form apart. Every
// other request (the login, session checks) is passed on to the sandbox, so the module talks to it
// as to any AOS server. For each send it records, on the machine's monotonic clock
// (Stopwatch.GetTimestamp, the same in every process on Linux), when the request's head and the
// body's first byte arrived and when the body was complete.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;

public sealed class AosDiscardedSend
{
    public long HeadAt { get; set; }
    public long FirstByteAt { get; set; }
    public long EndAt { get; set; }
    public long Length { get; set; }
}

public sealed class AosDiscardServer : IDisposable
{
    private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
    private readonly HttpClient _sandbox = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false });
    private readonly string _sandboxBase;

    public AosDiscardServer(string sandboxBase)
    {
        _sandboxBase = sandboxBase.TrimEnd('/');
        _listener.Start();
        _ = AcceptAsync();
    }

    public string BaseUri => "http://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<AosDiscardedSend> Sends { get; } = new ConcurrentQueue<AosDiscardedSend>();

    /// <summary>Stopwatch ticks per second, to turn the timestamps into seconds.</summary>
    public static long Frequency => Stopwatch.Frequency;

    public static long Now() => Stopwatch.GetTimestamp();

    public void Dispose()
    {
        _listener.Stop();
        _sandbox.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(); }
            catch (Exception) { return; } // stopped
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var stream = client.GetStream())
        {
            var buffer = new byte[1 << 20];
            int used = 0;
            try
            {
                while (true)
                {
                    // The head: up to the blank line.
                    int end;
                    while ((end = IndexOfBlankLine(buffer, used)) < 0)
                    {
                        int read = await stream.ReadAsync(buffer, used, buffer.Length - used);
                        if (read == 0) return;
                        used += read;
                    }

                    long headAt = Stopwatch.GetTimestamp();
                    var lines = Encoding.ASCII.GetString(buffer, 0, end).Split("\r\n");
                    var start = lines[0].Split(' ');
                    var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
                    long length = headers.TryGetValue("Content-Length", out var text) ? long.Parse(text) : 0;
                    used -= end + 4;
                    Buffer.BlockCopy(buffer, end + 4, buffer, 0, used);
                    if (headers.TryGetValue("Expect", out var expect) && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
                    {
                        var go = Encoding.ASCII.GetBytes("HTTP/1.1 100 Continue\r\n\r\n");
                        await stream.WriteAsync(go, 0, go.Length);
                    }

                    bool discard = start[0] == "POST" && start[1].Contains(".sdmailact.");
                    var body = discard ? null : new MemoryStream();
                    long firstAt = used > 0 ? headAt : 0;
                    long left = length;
                    while (true)
                    {
                        int take = (int)Math.Min(used, left);
                        body?.Write(buffer, 0, take);
                        left -= take;
                        used -= take;
                        Buffer.BlockCopy(buffer, take, buffer, 0, used);
                        if (left == 0) break;
                        int read = await stream.ReadAsync(buffer, used, buffer.Length - used);
                        if (read == 0) return;
                        if (firstAt == 0) firstAt = Stopwatch.GetTimestamp();
                        used += read;
                    }

                    long endAt = Stopwatch.GetTimestamp();
                    byte[] answer;
                    if (discard)
                    {
                        Sends.Enqueue(new AosDiscardedSend { HeadAt = headAt, FirstByteAt = firstAt == 0 ? endAt : firstAt, EndAt = endAt, Length = length });
                        answer = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
                    }
                    else
                    {
                        answer = await ForwardAsync(start[0], start[1], headers, body!.ToArray());
                    }

                    await stream.WriteAsync(answer, 0, answer.Length);
                }
            }
            catch (Exception)
            {
                // The client went away; its send is not recorded.
            }
        }
    }

    private async Task<byte[]> ForwardAsync(string method, string target, Dictionary<string, string> headers, byte[] body)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), _sandboxBase + target);
        if (method != "GET")
        {
            request.Content = new ByteArrayContent(body);
            if (headers.TryGetValue("Content-Type", out var type)) request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }

        foreach (var header in headers)
        {
            if (header.Key is "Host" or "Content-Length" or "Content-Type" or "Connection" or "Expect") continue;
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        using var response = await _sandbox.SendAsync(request);
        var content = await response.Content.ReadAsByteArrayAsync();
        var head = new StringBuilder($"HTTP/1.1 {(int)response.StatusCode} {response.ReasonPhrase}\r\n");
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (header.Key is "Content-Length" or "Transfer-Encoding" or "Connection") continue;
            foreach (var value in header.Value) head.Append(header.Key).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("Content-Length: ").Append(content.Length).Append("\r\n\r\n");
        return Encoding.ASCII.GetBytes(head.ToString()).Concat(content).ToArray();
    }

    private static int IndexOfBlankLine(byte[] buffer, int used)
    {
        for (int i = 0; i + 3 < used; i++)
        {
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n') return i;
        }

        return -1;
    }
}
