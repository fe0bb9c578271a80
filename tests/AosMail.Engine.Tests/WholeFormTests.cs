using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static AosMail.Engine.Tests.TestSecrets;

namespace AosMail.Engine.Tests;

/// <summary>
/// Issue 6: a short form without a MIME body is handed to HttpClient whole, so that on .NET 5 and
/// later it goes through the synchronous HttpClient.Send. The bytes must be the streaming writer's,
/// the array must not outlive the request, and the choice must hold over a real socket.
/// </summary>
public sealed class WholeFormTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static async Task<byte[]> Streamed(IReadOnlyList<AosFormField> fields)
    {
        using var content = new AosFormContent(fields);
        return await content.ReadAsByteArrayAsync();
    }

    private static async Task<byte[]> Whole(IReadOnlyList<AosFormField> fields)
    {
        using var form = new AosFormContent(fields);
        Assert.True(form.CanSendWhole);
        using var whole = form.ToWholeContent();
        Assert.Equal("application/x-www-form-urlencoded; charset=utf-8", whole.Headers.ContentType!.ToString());
        var bytes = await whole.ReadAsByteArrayAsync();
        Assert.Equal(bytes.Length, whole.Headers.ContentLength);
        return bytes;
    }

    [Fact]
    public async Task PlainNonAsciiFormIsTheStreamingWritersBytes()
    {
        var fields = new[]
        {
            AosFormField.Plain("api", "lc"), AosFormField.Plain("mto", "Zoë <zoe@x.org>"),
            AosFormField.Plain("msub", "Ünïcødé & \U0001F600 = 100%"), AosFormField.Plain("body", "line 1\r\nline 2 +\r\n"),
            AosFormField.Plain("snd", "checked"),
        };
        var whole = await Whole(fields);
        Assert.Equal(await Streamed(fields), whole);
        Assert.StartsWith("api=lc&mto=Zo%C3%AB+%3Czoe%40x.org%3E&msub=%C3%9Cn", Encoding.ASCII.GetString(whole));
    }

    [Fact]
    public async Task LoginFormWithASecretIsTheStreamingWritersBytes()
    {
        using var password = Secure("S3cret&Pass=w0rd%+ é");
        var fields = new[] { AosFormField.Plain("api", "lc"), AosFormField.Plain("name", "demo"), AosFormField.Secured("pswd", password) };
        Assert.Equal(await Streamed(fields), await Whole(fields));
        Assert.Equal(20, password.Length); // still usable
    }

    [Fact]
    public void FormOfExactlyTheLimitIsWholeOneByteMoreIsStreamed()
    {
        var atLimit = new[] { AosFormField.Plain("a", new string('x', AosFormContent.WholeFormLimit - 2)) };
        using (var content = new AosFormContent(atLimit))
        {
            Assert.Equal(AosFormContent.WholeFormLimit, content.Length);
            Assert.True(content.CanSendWhole);
        }

        var over = new[] { AosFormField.Plain("a", new string('x', AosFormContent.WholeFormLimit - 1)) };
        using (var content = new AosFormContent(over))
        {
            Assert.False(content.CanSendWhole);
            Assert.Throws<InvalidOperationException>(() => content.ToWholeContent());
        }
    }

    [Fact]
    public void MimeBodyIsNeverSentWhole()
    {
        var message = new AosMessage { Subject = "Html", Body = "<p>short</p>", BodyIsHtml = true };
        message.To.Add("a@x.org");
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        using var content = new AosFormContent(prepared.Fields);
        Assert.True(content.Length < AosFormContent.WholeFormLimit);
        Assert.False(content.CanSendWhole);
    }

    [Fact]
    public void WholeFormIsZeroedWhenTheRequestIsDisposed()
    {
        var bytes = Encoding.ASCII.GetBytes("pswd=secret");
        var content = new WholeFormContent(bytes, GCHandle.Alloc(bytes, GCHandleType.Pinned));
        content.Dispose();
        Assert.All(bytes, b => Assert.Equal(0, b));
        content.Dispose(); // twice is harmless
    }

    [Fact]
    public void TheSynchronousSendIsFoundOnThisRuntimeButNotUsedWithATestHandler()
    {
        var settings = Settings("http://127.0.0.1:9/");
        using (var real = new AosConnection(settings))
        {
            Assert.True(real.SendsShortFormsSynchronously); // HttpClient.Send exists on .NET 5+
        }

        using var faked = new AosConnection(Settings("http://127.0.0.1:9/"), new System.Net.Http.HttpClientHandler());
        Assert.False(faked.SendsShortFormsSynchronously);
    }

    /// <summary>
    /// Over a real socket: a short send completes before SubmitAsync returns (it ran on the calling
    /// thread), an attachment's does not (it streams asynchronously), and the server gets the same
    /// bytes either way as the streaming writer produces.
    /// </summary>
    [Fact]
    public async Task OverARealSocketShortSendsCompleteSynchronouslyAndAttachmentsStream()
    {
        using var server = new SlowServer(TimeSpan.FromMilliseconds(300));
        using var connection = new AosConnection(Settings(server.BaseUri));
        await connection.LoginAsync(NullAosLog.Instance, CancellationToken.None);
        Assert.Equal("api=lc&name=demo&host=sandbox.test&pswd=s3cret", server.LastBody);

        var plain = new AosMessage { Subject = "Plain é", Body = "Hello" };
        plain.To.Add("bob@x.org");
        var prepared = AosFormBuilder.Prepare(plain, AosSubmitKind.Send);
        var task = connection.SubmitAsync(prepared, NullAosLog.Instance, CancellationToken.None);
        Assert.True(task.IsCompleted, "a short plain send should have run synchronously");
        Assert.Equal("OK", (await task).ServerAnswer);
        Assert.Equal(Encoding.ASCII.GetString(await Streamed(prepared.Fields)), server.LastBody);

        var withFile = new AosMessage { Subject = "File", Body = "See attached" };
        withFile.To.Add("bob@x.org");
        withFile.Attachments.Add(_files.Create("a.bin", 1000, 7));
        var streamed = AosFormBuilder.Prepare(withFile, AosSubmitKind.Send);
        var pending = connection.SubmitAsync(streamed, NullAosLog.Instance, CancellationToken.None);
        Assert.False(pending.IsCompleted, "an attachment should stream asynchronously");
        Assert.Equal("OK", (await pending).ServerAnswer);
        Assert.StartsWith("api=lc&mto=bob%40x.org&msub=File&body=", server.LastBody);
        Assert.Equal(AosFormContent.Measure(streamed.Fields), server.LastBody!.Length);
    }

    private static AosConnectionSettings Settings(string server) => new()
    {
        Server = new Uri(server),
        UserName = "demo@sandbox.test",
        Password = Secure("s3cret"),
        AllowUnencryptedAuthentication = true,
    };

    /// <summary>A loopback HTTP server that answers every POST after a delay: a login with a SID, anything else with OK.</summary>
    private sealed class SlowServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly TimeSpan _delay;
        private readonly Task _loop;

        public SlowServer(TimeSpan delay)
        {
            _delay = delay;
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            BaseUri = "http://127.0.0.1:" + port + "/";
            _listener.Prefixes.Add(BaseUri);
            _listener.Start();
            _loop = Task.Run(Serve);
        }

        public string BaseUri { get; }

        public string? LastBody { get; private set; }

        private async Task Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (!_listener.IsListening)
                {
                    return;
                }

                using (var reader = new StreamReader(context.Request.InputStream, Encoding.ASCII))
                {
                    LastBody = await reader.ReadToEndAsync();
                }

                await Task.Delay(_delay);
                var answer = Encoding.ASCII.GetBytes(context.Request.Url!.AbsolutePath.EndsWith("st.login.mms", StringComparison.Ordinal) ? "SID00000000000000000001" : "OK");
                context.Response.ContentType = "text/plain";
                context.Response.ContentLength64 = answer.Length;
                await context.Response.OutputStream.WriteAsync(answer);
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
        }
    }
}
