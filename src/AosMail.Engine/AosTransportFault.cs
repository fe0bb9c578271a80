using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;

namespace AosMail.Engine
{
    /// <summary>docs/aos-protocol.md B15: what a transport fault says about whether the request reached the server.</summary>
    internal enum AosFaultKind
    {
        /// <summary>Connection refused, name resolution, unreachable network: nothing was sent; retrying is safe.</summary>
        NotReached,

        /// <summary>TLS handshake or certificate failure: nothing was sent; retrying does not help.</summary>
        TlsFailure,

        /// <summary>Reset, closed or otherwise broken after connecting: the request may have arrived.</summary>
        MayHaveReached,

        /// <summary>No answer in time: the request may have arrived.</summary>
        Timeout,

        /// <summary>
        /// An attachment changed while it was written (<see cref="AosContentChangedException"/>): the
        /// request was cut before its body was complete, so nothing was sent (B22); retrying does not help.
        /// </summary>
        ContentChanged,

        /// <summary>No progress before the whole body was written (connecting, a stalled upload): nothing can have been acted on (B22).</summary>
        StalledBeforeSent,

        /// <summary>
        /// The connection broke while the body was being written: the server never had the whole
        /// request, so nothing was sent (B22); not retried, as the upload would be repeated whole.
        /// </summary>
        CutBeforeSent,

        /// <summary>
        /// An attachment could not be read while it was written (<see cref="AosContentReadException"/>):
        /// the request was cut before its body was complete, so nothing was sent (B22).
        /// </summary>
        ContentUnreadable,
    }

    internal static class AosTransportFault
    {
        /// <summary>
        /// B15, B22: what a fault means by how far the request got, whatever the exception's shape.
        /// Before the handler asked for the body (connecting, the TLS handshake), nothing was sent:
        /// a TLS failure when the chain says so, else not reached (retried). While the body was being
        /// written, the server never had it whole. Only once it was complete do the exception's
        /// kind and status decide (<see cref="Classify(Exception)"/>). The module's own content
        /// failures (a changed or unreadable attachment) are themselves at any stage.
        /// </summary>
        /// <param name="https">An https server: a connection that broke before the body was asked
        /// for broke in the TLS handshake (.NET Framework reports a handshake the server closed as
        /// SendFailure with an IOException, nothing that names TLS).</param>
        public static AosFaultKind Classify(Exception exception, AosRequestStage stage, bool https)
        {
            if (Find<AosContentChangedException>(exception) != null)
            {
                return AosFaultKind.ContentChanged;
            }

            if (Find<AosContentReadException>(exception) != null)
            {
                return AosFaultKind.ContentUnreadable;
            }

            switch (stage)
            {
                case AosRequestStage.Connecting:
                    return IsTlsFailure(exception, https) ? AosFaultKind.TlsFailure : AosFaultKind.NotReached;
                case AosRequestStage.Uploading:
                    return AosFaultKind.CutBeforeSent;
                default:
                    return Classify(exception);
            }
        }

        /// <summary>A failure before the body was asked for: did the TLS handshake fail, rather than finding the server?</summary>
        private static bool IsTlsFailure(Exception exception, bool https)
        {
            if (Find<AuthenticationException>(exception) != null)
            {
                return true;
            }

            var web = Find<WebException>(exception);
            var status = web == null ? null : FromWebStatus(web.Status);
            if (status == AosFaultKind.TlsFailure)
            {
                return true;
            }

            var socket = Find<SocketException>(exception);
            bool beforeConnect = status == AosFaultKind.NotReached || (socket != null && IsBeforeConnect(socket.SocketErrorCode));
            return https && !beforeConnect && Find<IOException>(exception) != null;
        }

        /// <summary>
        /// Classifies an exception chain from HttpClient (timeouts are recognised by the caller,
        /// which owns the timeout token). Looks through inner and aggregated exceptions. On .NET
        /// Framework (Windows PowerShell) the cause is a WebException whose status says where the
        /// request failed; on .NET Core it is a SocketException, IOException or AuthenticationException.
        /// </summary>
        public static AosFaultKind Classify(Exception exception)
        {
            if (Find<AosContentChangedException>(exception) != null)
            {
                return AosFaultKind.ContentChanged;
            }

            var web = Find<WebException>(exception);
            if (web != null && FromWebStatus(web.Status) is AosFaultKind known)
            {
                return known;
            }

            if (Find<AuthenticationException>(exception) != null)
            {
                return AosFaultKind.TlsFailure;
            }

            var socket = Find<SocketException>(exception);
            if (socket != null && IsBeforeConnect(socket.SocketErrorCode))
            {
                return AosFaultKind.NotReached;
            }

            if (Find<TimeoutException>(exception) != null)
            {
                return AosFaultKind.Timeout;
            }

            return AosFaultKind.MayHaveReached;
        }

        /// <summary>A phrase for the log.</summary>
        public static string Explain(AosFaultKind kind)
        {
            switch (kind)
            {
                case AosFaultKind.NotReached: return "could not connect (nothing was sent)";
                case AosFaultKind.TlsFailure: return "TLS handshake failed (nothing was sent)";
                case AosFaultKind.Timeout: return "timed out (the request may have arrived)";
                case AosFaultKind.ContentChanged: return "an attachment changed while it was sent (the request was cut: nothing was sent)";
                case AosFaultKind.StalledBeforeSent: return "timed out before the request was sent in full (nothing was sent)";
                case AosFaultKind.CutBeforeSent: return "the connection broke before the request was sent in full (nothing was sent)";
                case AosFaultKind.ContentUnreadable: return "an attachment could not be read while it was sent (the request was cut: nothing was sent)";
                default: return "failed after connecting (the request may have arrived)";
            }
        }

        /// <summary>
        /// The WebException statuses that tell for sure: before a connection (name resolution,
        /// connect), in the TLS handshake, or a timeout. Null for the others (the connection broke,
        /// closed or answered garbage after the request may have been written): the inner
        /// exceptions decide, and without a clearer one the request may have reached the server.
        /// </summary>
        internal static AosFaultKind? FromWebStatus(WebExceptionStatus status)
        {
            switch (status)
            {
                case WebExceptionStatus.NameResolutionFailure:
                case WebExceptionStatus.ProxyNameResolutionFailure:
                case WebExceptionStatus.ConnectFailure:
                    return AosFaultKind.NotReached;
                case WebExceptionStatus.SecureChannelFailure:
                case WebExceptionStatus.TrustFailure:
                    return AosFaultKind.TlsFailure;
                case WebExceptionStatus.Timeout:
                    return AosFaultKind.Timeout;
                default:
                    return null;
            }
        }

        /// <summary>Socket errors that only happen before a connection exists.</summary>
        internal static bool IsBeforeConnect(SocketError error)
        {
            switch (error)
            {
                case SocketError.ConnectionRefused:
                case SocketError.HostNotFound:
                case SocketError.TryAgain:
                case SocketError.NoData:
                case SocketError.NetworkUnreachable:
                case SocketError.HostUnreachable:
                case SocketError.NetworkDown:
                    return true;
                default:
                    return false;
            }
        }

        /// <summary>A short description of the innermost cause, for messages (never contains a URL with a SID: HttpClient messages name host and port only).</summary>
        public static string Describe(Exception exception)
        {
            var content = Find<AosContentReadException>(exception);
            if (content != null)
            {
                // It names the attachment; its cause is in its message.
                return AosProtocol.SidAnywhere.Replace(content.Message, AosProtocol.SidMask);
            }

            var socket = Find<SocketException>(exception);
            if (socket != null)
            {
                return AosProtocol.SidAnywhere.Replace($"{socket.Message} ({socket.SocketErrorCode})", AosProtocol.SidMask);
            }

            var web = Find<WebException>(exception);
            if (web != null)
            {
                return AosProtocol.SidAnywhere.Replace(web.Message + " (" + web.Status + ")", AosProtocol.SidMask);
            }

            var inner = exception;
            while (inner.InnerException != null)
            {
                inner = inner.InnerException;
            }

            return AosProtocol.SidAnywhere.Replace(inner.Message, AosProtocol.SidMask);
        }

        private static T? Find<T>(Exception? exception) where T : Exception
        {
            int depth = 0;
            while (exception != null && depth++ < 32)
            {
                if (exception is T match)
                {
                    return match;
                }

                if (exception is AggregateException aggregate)
                {
                    foreach (var inner in aggregate.InnerExceptions)
                    {
                        var found = Find<T>(inner);
                        if (found != null)
                        {
                            return found;
                        }
                    }

                    return null;
                }

                exception = exception.InnerException;
            }

            return null;
        }
    }
}
