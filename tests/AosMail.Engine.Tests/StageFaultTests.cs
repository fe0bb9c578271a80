using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static AosMail.Engine.Tests.WebExceptionTests;
using static AosMail.Engine.Tests.TestSecrets;

namespace AosMail.Engine.Tests;

/// <summary>
/// B15, B22: a fault means what the request's stage says (connecting, uploading, answering), not
/// what the exception's name says. The exceptions are built as .NET Framework's HttpClientHandler
/// (HttpWebRequest) and .NET's SocketsHttpHandler build them; the stage is set by how far a fake
/// handler reads the body, as a real one asks for it only once connected.
/// </summary>
public class StageFaultTests
{
    /// <summary>.NET Framework: the server closed the connection in the TLS handshake.</summary>
    private static Exception HandshakeClosed() => Sending(new WebException(
        "The underlying connection was closed: An unexpected error occurred on a send.",
        new IOException("Authentication failed because the remote party has closed the transport stream."),
        WebExceptionStatus.SendFailure, null));

    /// <summary>.NET Framework: the connection was reset while writing (in the handshake, or after the body).</summary>
    private static Exception ResetOnSend() => Sending(new WebException(
        "The underlying connection was closed: An unexpected error occurred on a send.",
        new IOException("Unable to write data to the transport connection: An existing connection was forcibly closed by the remote host.",
            new SocketException((int)SocketError.ConnectionReset)),
        WebExceptionStatus.SendFailure, null));

    // ---- the classifier ----

    [Fact]
    public void AHandshakeClosedBeforeTheBodyIsATlsFailureNotAMaybe()
    {
        Assert.Equal(AosFaultKind.TlsFailure, AosTransportFault.Classify(HandshakeClosed(), AosRequestStage.Connecting, https: true));
        Assert.Equal(AosFaultKind.TlsFailure, AosTransportFault.Classify(ResetOnSend(), AosRequestStage.Connecting, https: true));
    }

    [Fact]
    public void AResetBeforeTheBodyOverPlainHttpIsNotReached() =>
        Assert.Equal(AosFaultKind.NotReached, AosTransportFault.Classify(ResetOnSend(), AosRequestStage.Connecting, https: false));

    [Fact]
    public void AConnectFailureOverHttpsIsNotReachedNotTls() =>
        Assert.Equal(AosFaultKind.NotReached, AosTransportFault.Classify(Sending(new WebException("Unable to connect to the remote server",
            new SocketException((int)SocketError.ConnectionRefused), WebExceptionStatus.ConnectFailure, null)), AosRequestStage.Connecting, https: true));

    [Fact]
    public void DotNetsHandshakeFailureIsATlsFailure() =>
        Assert.Equal(AosFaultKind.TlsFailure, AosTransportFault.Classify(
            new HttpRequestException("The SSL connection could not be established, see inner exception.",
                new IOException("Received an unexpected EOF or 0 bytes from the transport stream.")), AosRequestStage.Connecting, https: true));

    [Fact]
    public void TheSameResetWhileUploadingIsCutBeforeSentAndAfterTheBodyMayHaveReached()
    {
        Assert.Equal(AosFaultKind.CutBeforeSent, AosTransportFault.Classify(ResetOnSend(), AosRequestStage.Uploading, https: true));
        Assert.Equal(AosFaultKind.MayHaveReached, AosTransportFault.Classify(ResetOnSend(), AosRequestStage.Answering, https: true));
        Assert.Equal(AosFaultKind.MayHaveReached, AosTransportFault.Classify(HandshakeClosed(), AosRequestStage.Answering, https: true));
    }

    public static TheoryData<WebExceptionStatus> EveryStatus()
    {
        var data = new TheoryData<WebExceptionStatus>();
        foreach (WebExceptionStatus status in Enum.GetValues(typeof(WebExceptionStatus))) data.Add(status);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryStatus))]
    public void BeforeTheBodyEveryStatusMeansNothingWasSent(WebExceptionStatus status)
    {
        foreach (var https in new[] { true, false })
        {
            var kind = AosTransportFault.Classify(Sending(new WebException("failed", new IOException("x"), status, null)), AosRequestStage.Connecting, https);
            Assert.True(kind == AosFaultKind.NotReached || kind == AosFaultKind.TlsFailure, $"{status}: {kind}");
        }
    }

    [Fact]
    public void AnUnreadableAttachmentIsItselfAtAnyStage()
    {
        var fault = Sending(new AosContentReadException("The attachment 'a.bin' could not be read", new IOException("Input/output error")));
        foreach (AosRequestStage stage in Enum.GetValues(typeof(AosRequestStage)))
        {
            Assert.Equal(AosFaultKind.ContentUnreadable, AosTransportFault.Classify(fault, stage, https: true));
        }
    }

    [Fact]
    public void AnAttachmentReadErrorBecomesAContentReadException()
    {
        using var stream = new AosFixedLengthStream(new FailingStream(failAfter: 1000), 5000, strict: true, "a.bin");
        var buffer = new byte[4096];
        Assert.Equal(1000, stream.Read(buffer, 0, buffer.Length));
        var error = Assert.Throws<AosContentReadException>(() => stream.Read(buffer, 0, buffer.Length));
        Assert.Contains("'a.bin' could not be read", error.Message);
        Assert.Contains("Input/output error", error.Message);
    }

    // ---- a send, end to end through the connection ----

    /// <summary>Answers the login; for sdmailact, reads <c>readBytes</c> of the body (none: a failed connect; all: after the body) and throws.</summary>
    private sealed class FaultingServer(Exception fault, long readBytes) : HttpMessageHandler
    {
        public int Submits;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("st.login.mms", StringComparison.Ordinal))
            {
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("SID78889x23736345h80") };
            }

            Interlocked.Increment(ref Submits);
            if (readBytes > 0)
            {
                try
                {
                    await request.Content!.CopyToAsync(new CuttingSink(readBytes));
                }
                catch (IOException)
                {
                    // The sink cut the upload where the script says; the handler reports the fault below.
                }
            }

            throw fault;
        }
    }

    /// <summary>Takes <c>most</c> bytes, then fails as a broken connection.</summary>
    private sealed class CuttingSink(long most) : Stream
    {
        private long _taken;

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_taken + count > most) throw new IOException("Unable to write data to the transport connection.");
            _taken += count;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer, offset, count);
            return Task.CompletedTask;
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _taken;
        public override long Position { get => _taken; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Gives <c>failAfter</c> zero bytes, then fails as a disk that cannot be read.</summary>
    private sealed class FailingStream(long failAfter) : Stream
    {
        private long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter) throw new IOException("Input/output error");
            int n = (int)Math.Min(count, failAfter - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => long.MaxValue;
        public override long Position { get => _position; set => _position = value; }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => _position = offset;
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static async Task<(AosException Error, int Submits)> Send(Exception fault, long readBytes, string server = "https://mail.example.com/", int bodyChars = 10)
    {
        var handler = new FaultingServer(fault, readBytes);
        using var connection = new AosConnection(new AosConnectionSettings
        {
            Server = new Uri(server),
            UserName = "demo@sandbox.test",
            Password = Secure("pw"),
            AllowUnencryptedAuthentication = true,
        }, handler);
        connection.Delay = (delay, token) => Task.CompletedTask;
        var message = new AosMessage { Subject = "Hi", Body = new string('x', bodyChars) };
        message.To.Add("a@x.org");
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(AosFormBuilder.Prepare(message, AosSubmitKind.Send), NullAosLog.Instance, CancellationToken.None));
        return (error, handler.Submits);
    }

    [Fact]
    public async Task AHandshakeClosedOnASendIsATlsFailureWithNothingSent()
    {
        var (error, submits) = await Send(HandshakeClosed(), readBytes: 0);
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.SecurityError, error.Category);
        Assert.Contains("Nothing was sent", error.Message);
        Assert.Contains("-SkipCertificateCheck", error.Message);
        Assert.Equal(1, submits);
    }

    [Fact]
    public async Task AResetBeforeTheBodyOverHttpIsRetriedAsNotReached()
    {
        var (error, submits) = await Send(ResetOnSend(), readBytes: 0, server: "http://mail.example.com/");
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.ConnectionError, error.Category);
        Assert.Contains("Nothing was sent", error.Message);
        Assert.Equal(3, submits);
    }

    [Fact]
    public async Task AResetHalfwayThroughTheBodyIsNothingSentAndNotRetried()
    {
        var (error, submits) = await Send(ResetOnSend(), readBytes: 40_000, bodyChars: 200_000);
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.ConnectionError, error.Category);
        Assert.Matches(@"broke before the request sdmailact\.mail\.mms was sent in full: .*\(\d+ of \d+ bytes sent\)\. Nothing was sent\.", error.Message);
        Assert.Equal(1, submits);
    }

    [Fact]
    public async Task TheSameResetAfterTheWholeBodyIsOutcomeUnknown()
    {
        var (error, submits) = await Send(ResetOnSend(), readBytes: long.MaxValue);
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(1, submits);
    }

    [Fact]
    public async Task AnAttachmentGoneBeforeTheSendIsUnreadableWithNothingSent()
    {
        var path = Path.Combine(Path.GetTempPath(), "aosmail-gone-" + Guid.NewGuid().ToString("N") + ".bin");
        File.WriteAllBytes(path, new byte[10_000]);
        var message = new AosMessage { Subject = "Hi", Body = "see attached" };
        message.To.Add("a@x.org");
        message.Attachments.Add(AosAttachmentSource.FromFile(path));
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        File.Delete(path);

        var handler = new FaultingServer(new InvalidOperationException("the body must not be sent"), readBytes: long.MaxValue);
        using var connection = new AosConnection(new AosConnectionSettings
        {
            Server = new Uri("https://mail.example.com/"),
            UserName = "demo@sandbox.test",
            Password = Secure("pw"),
        }, handler);
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(prepared, NullAosLog.Instance, CancellationToken.None));
        Assert.Equal(AosErrorIds.AttachmentUnreadable, error.ErrorId);
        Assert.Equal(AosErrorCategory.ReadError, error.Category);
        Assert.Contains($"The attachment '{Path.GetFileName(path)}' could not be read", error.Message);
        Assert.Contains("nothing was sent", error.Message);
        Assert.Equal(0, handler.Submits);
    }
}
