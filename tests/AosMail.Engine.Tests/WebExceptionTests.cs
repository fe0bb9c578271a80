using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static AosMail.Engine.Tests.TestSecrets;

namespace AosMail.Engine.Tests;

/// <summary>
/// B15 on .NET Framework (Windows PowerShell), whose HttpClientHandler reports transport faults as
/// a WebException inside the HttpRequestException. The exceptions are built as that handler builds
/// them; the Framework lane also meets real ones on Mono's HttpWebRequest handler.
/// </summary>
public class WebExceptionTests
{
    /// <summary>How .NET Framework's HttpClientHandler wraps a transport fault.</summary>
    internal static HttpRequestException Sending(Exception inner) => new("An error occurred while sending the request.", inner);

    public static TheoryData<WebExceptionStatus, string> EveryStatus()
    {
        var data = new TheoryData<WebExceptionStatus, string>();
        foreach (WebExceptionStatus status in Enum.GetValues(typeof(WebExceptionStatus)))
        {
            data.Add(status, (status switch
            {
                WebExceptionStatus.NameResolutionFailure or WebExceptionStatus.ProxyNameResolutionFailure or WebExceptionStatus.ConnectFailure => AosFaultKind.NotReached,
                WebExceptionStatus.SecureChannelFailure or WebExceptionStatus.TrustFailure => AosFaultKind.TlsFailure,
                WebExceptionStatus.Timeout => AosFaultKind.Timeout,
                // ConnectionClosed, ReceiveFailure, SendFailure, KeepAliveFailure, PipelineFailure,
                // ServerProtocolViolation, RequestCanceled, UnknownError, MessageLengthLimitExceeded ...
                _ => AosFaultKind.MayHaveReached,
            }).ToString());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryStatus))]
    public void EachStatusHasItsKind(WebExceptionStatus status, string expected) =>
        Assert.Equal(expected, AosTransportFault.Classify(Sending(new WebException("failed", status))).ToString());

    [Fact]
    public void TheStatusesThatMeanNothingWasSentAreExactlyThese()
    {
        var notReached = Enum.GetValues(typeof(WebExceptionStatus)).Cast<WebExceptionStatus>()
            .Where(s => AosTransportFault.FromWebStatus(s) == AosFaultKind.NotReached).Select(s => s.ToString()).OrderBy(s => s, StringComparer.Ordinal);
        Assert.Equal("ConnectFailure, NameResolutionFailure, ProxyNameResolutionFailure", string.Join(", ", notReached));
    }

    // The shapes .NET Framework builds: a status with the socket or stream error inside.

    [Fact]
    public void ConnectionRefusedBehindConnectFailureDidNotReachTheServer() =>
        Assert.Equal(AosFaultKind.NotReached, AosTransportFault.Classify(Sending(
            new WebException("Unable to connect to the remote server", new SocketException((int)SocketError.ConnectionRefused), WebExceptionStatus.ConnectFailure, null))));

    [Fact]
    public void AnUnknownStatusIsDecidedByTheSocketErrorInside() =>
        Assert.Equal(AosFaultKind.NotReached, AosTransportFault.Classify(Sending(
            new WebException("x", new SocketException((int)SocketError.HostNotFound), WebExceptionStatus.UnknownError, null))));

    [Fact]
    public void ForciblyClosedWhileReadingMayHaveReachedTheServer() =>
        Assert.Equal(AosFaultKind.MayHaveReached, AosTransportFault.Classify(Sending(new WebException(
            "The underlying connection was closed: An unexpected error occurred on a receive.",
            new IOException("Unable to read data from the transport connection: An existing connection was forcibly closed by the remote host.",
                new SocketException((int)SocketError.ConnectionReset)),
            WebExceptionStatus.ReceiveFailure, null))));

    [Fact]
    public void ResetWhileWritingMayHaveReachedTheServer() =>
        Assert.Equal(AosFaultKind.MayHaveReached, AosTransportFault.Classify(Sending(new WebException(
            "The underlying connection was closed: An unexpected error occurred on a send.",
            new IOException("Unable to write data to the transport connection.", new SocketException((int)SocketError.ConnectionReset)),
            WebExceptionStatus.SendFailure, null))));

    [Fact]
    public void AHandshakeClosedByTheServerIsATlsFailure() =>
        Assert.Equal(AosFaultKind.TlsFailure, AosTransportFault.Classify(Sending(new WebException(
            "The underlying connection was closed: Could not establish secure channel for SSL/TLS.",
            new IOException("Authentication failed because the remote party has closed the transport stream."),
            WebExceptionStatus.SecureChannelFailure, null))));

    [Fact]
    public void AnUntrustedCertificateIsATlsFailure() =>
        Assert.Equal(AosFaultKind.TlsFailure, AosTransportFault.Classify(Sending(new WebException(
            "The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel.",
            new AuthenticationException("The remote certificate is invalid according to the validation procedure."),
            WebExceptionStatus.TrustFailure, null))));

    [Fact]
    public void DescribeNamesTheStatusAndMasksSessionIds()
    {
        var text = AosTransportFault.Describe(Sending(new WebException("The remote name could not be resolved: 'SID78889x23736345h80.example'", WebExceptionStatus.NameResolutionFailure)));
        Assert.Contains("(NameResolutionFailure)", text);
        Assert.DoesNotContain("SID78889x23736345h80", text);
    }

    /// <summary>Answers the login; every sdmailact throws what the test gives.</summary>
    private sealed class FailingSubmit : HttpMessageHandler
    {
        private readonly Exception _fault;
        private readonly bool _afterBody;

        /// <param name="afterBody">Throw once the whole body was read (else before it is asked for, as a failed connect).</param>
        public FailingSubmit(Exception fault, bool afterBody)
        {
            _fault = fault;
            _afterBody = afterBody;
        }

        public int Submits { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("st.login.mms", StringComparison.Ordinal))
            {
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("SID78889x23736345h80") };
            }

            Submits++;
            if (_afterBody)
            {
                await request.Content!.CopyToAsync(Stream.Null);
            }

            throw _fault;
        }
    }

    private static async Task<(AosException Error, int Submits)> Send(Exception fault, bool afterBody = false)
    {
        var handler = new FailingSubmit(fault, afterBody);
        using var connection = new AosConnection(new AosConnectionSettings
        {
            Server = new Uri("https://mail.example.com/"),
            UserName = "demo@sandbox.test",
            Password = Secure("pw"),
        }, handler);
        connection.Delay = (delay, token) => Task.CompletedTask;
        var message = new AosMessage { Subject = "Hi", Body = "text" };
        message.To.Add("a@x.org");
        var error = await Assert.ThrowsAsync<AosException>(() => connection.SubmitAsync(AosFormBuilder.Prepare(message, AosSubmitKind.Send), NullAosLog.Instance, CancellationToken.None));
        return (error, handler.Submits);
    }

    [Fact]
    public async Task ADnsFailureOnASendIsNeverOutcomeUnknown()
    {
        var (error, submits) = await Send(Sending(new WebException("The remote name could not be resolved: 'mail.example.com'", WebExceptionStatus.NameResolutionFailure)));
        Assert.Equal(AosErrorIds.ConnectionFailed, error.ErrorId);
        Assert.Equal(AosErrorCategory.ConnectionError, error.Category);
        Assert.Contains("Nothing was sent", error.Message);
        Assert.Equal(3, submits); // nothing reached the server, so it was safe to try again
    }

    [Fact]
    public async Task AReceiveFailureOnASendIsOutcomeUnknownAndNotRetried()
    {
        var (error, submits) = await Send(Sending(new WebException("The underlying connection was closed: An unexpected error occurred on a receive.", WebExceptionStatus.ReceiveFailure)), afterBody: true);
        Assert.Equal(AosErrorIds.OutcomeUnknown, error.ErrorId);
        Assert.Equal(1, submits);
    }
}
