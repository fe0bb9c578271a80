using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine.Tests;

/// <summary>
/// A small HTTP/1.1 server on 127.0.0.1 that misbehaves as a test scripts it, for what the
/// sandbox cannot play (an HTML 200 after acting, a refusal before the body is read, an answer
/// that never ends). It answers the login itself; every other request goes to the script with the
/// request's head read and its body left on the connection, so the script decides how much of the
/// body is read before it answers.
/// </summary>
internal sealed class FakeHttpServer : IDisposable
{
    public const string Sid = "SID78889x23736345h80";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<FakeRequest, Task> _script;
    private readonly CancellationTokenSource _stop = new();

    public FakeHttpServer(Func<FakeRequest, Task> script)
    {
        _script = script;
        _listener.Start();
        _ = AcceptAsync();
    }

    public Uri BaseUri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>The commands asked for, in order (the path's last segment without a SID).</summary>
    public ConcurrentQueue<string> Commands { get; } = new();

    public int Count(string command)
    {
        int n = 0;
        foreach (var c in Commands) if (c == command) n++;
        return n;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync();
            }
            catch (Exception)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            try
            {
                while (true)
                {
                    var request = await FakeRequest.ReadAsync(stream, _stop.Token);
                    if (request == null) return;
                    var command = request.Path.Substring(request.Path.LastIndexOf('/') + 1);
                    int dot = command.IndexOf('.');
                    if (command.StartsWith("SID", StringComparison.Ordinal) && dot > 0) command = command.Substring(dot + 1);
                    Commands.Enqueue(command);
                    request.Command = command;
                    if (command == "st.login.mms")
                    {
                        await request.ReadBodyAsync();
                        await request.AnswerAsync(200, Sid);
                    }
                    else
                    {
                        await _script(request);
                    }

                    if (request.Closed) return;
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested || true)
            {
                // The client went away, or the script cut the connection: this connection is over.
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}

/// <summary>One request as the script sees it: the head is read, the body is still on the connection.</summary>
internal sealed class FakeRequest
{
    private readonly NetworkStream _stream;
    private readonly byte[] _early;
    private int _earlyAt;

    private FakeRequest(NetworkStream stream, string path, long length, byte[] early)
    {
        _stream = stream;
        Path = path;
        ContentLength = length;
        _early = early;
    }

    public string Path { get; }
    public string Command { get; set; } = "";
    public long ContentLength { get; }
    public long BodyRead { get; private set; }
    public bool Closed { get; private set; }
    public NetworkStream Stream => _stream;

    internal static async Task<FakeRequest?> ReadAsync(NetworkStream stream, CancellationToken token)
    {
        var head = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            int read = await stream.ReadAsync(buffer, 0, buffer.Length, token);
            if (read == 0) return null;
            int start = head.Count;
            for (int i = 0; i < read; i++) head.Add(buffer[i]);
            int end = IndexOfBlankLine(head, Math.Max(0, start - 3));
            if (end < 0) continue;
            var text = Encoding.ASCII.GetString(head.ToArray(), 0, end);
            var lines = text.Split(new[] { "\r\n" }, StringSplitOptions.None);
            var path = lines[0].Split(' ')[1];
            long length = 0;
            foreach (var line in lines)
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = long.Parse(line.Substring(15).Trim());
            }

            var early = head.GetRange(end + 4, head.Count - end - 4).ToArray();
            return new FakeRequest(stream, path, length, early);
        }
    }

    private static int IndexOfBlankLine(List<byte> bytes, int from)
    {
        for (int i = from; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n') return i;
        }

        return -1;
    }

    /// <summary>Reads (and drops) the body, all of it or up to <paramref name="most"/> bytes; returns the text of what it read when asked.</summary>
    public async Task<string> ReadBodyAsync(long most = long.MaxValue, bool keep = true)
    {
        var kept = new MemoryStream();
        var buffer = new byte[64 * 1024];
        long want = Math.Min(most, ContentLength);
        while (BodyRead < want)
        {
            int n;
            if (_earlyAt < _early.Length)
            {
                n = (int)Math.Min(_early.Length - _earlyAt, want - BodyRead);
                Buffer.BlockCopy(_early, _earlyAt, buffer, 0, n);
                _earlyAt += n;
            }
            else
            {
                n = await _stream.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, want - BodyRead));
                if (n == 0) break;
            }

            if (keep && kept.Length < 1024 * 1024) kept.Write(buffer, 0, n);
            BodyRead += n;
        }

        return Encoding.UTF8.GetString(kept.ToArray());
    }

    public Task AnswerAsync(int status, string body, bool close = false) =>
        WriteAsync($"HTTP/1.1 {status} {Reason(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n{(close ? "Connection: close\r\n" : "")}\r\n{body}", close);

    public async Task WriteAsync(string text, bool close = false)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await _stream.WriteAsync(bytes, 0, bytes.Length);
        await _stream.FlushAsync();
        if (close) Close();
    }

    /// <summary>Closes the connection (a FIN, or a reset when unread bytes remain).</summary>
    public void Close()
    {
        Closed = true;
        _stream.Socket.Shutdown(SocketShutdown.Send);
        _stream.Close();
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        413 => "Payload Too Large",
        403 => "Forbidden",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
