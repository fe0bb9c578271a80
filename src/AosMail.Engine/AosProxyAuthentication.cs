using System;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>
    /// -ProxyCredential to a plain-http server, with no 407 round trip: the handler's own proxy
    /// authentication sends every request once without a credential, and only after the 407 sends
    /// it again with one, so each upload crosses the link twice. Here every request carries a Basic
    /// Proxy-Authorization from the first try (as curl does), and the handler is given the credential
    /// for the other schemes only (<see cref="GetCredential"/>): a 407 to the Basic credential comes
    /// back as it is (the proxy refused it) instead of the body being sent again. A proxy that wants
    /// another scheme (NTLM, Negotiate, Digest) shows it on the first request, the login, which is
    /// small; from then on no Basic header is sent, the handler answers that scheme's challenge, and
    /// requests ask "Expect: 100-continue" so that a 407 comes before the body.
    /// </summary>
    internal sealed class AosProxyAuthentication : DelegatingHandler, ICredentials
    {
        private const string Basic = "Basic";
        private readonly NetworkCredential _credential;
        private volatile bool _sendBasic = true;

        public AosProxyAuthentication(NetworkCredential credential, HttpMessageHandler inner)
            : base(inner)
        {
            _credential = credential;
        }

        /// <summary>Basic cannot carry a user name with a colon (RFC 7617); such a credential is left to the handler.</summary>
        public static bool CanSendBasic(NetworkCredential credential) => credential.UserName.IndexOf(':') < 0;

        /// <summary>False once the proxy showed that it wants another scheme.</summary>
        internal bool SendsBasic => _sendBasic;

        /// <summary>What the handler may answer a proxy's challenge with: every scheme but the Basic this class already sent.</summary>
        public NetworkCredential? GetCredential(Uri uri, string authType) =>
            _sendBasic && string.Equals(authType, Basic, StringComparison.OrdinalIgnoreCase) ? null : _credential;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            bool sentBasic = _sendBasic;
            if (sentBasic)
            {
                request.Headers.ProxyAuthorization = BasicHeader();
            }
            else if (request.Content != null)
            {
                // The other schemes answer a challenge, so a request may meet a 407 again; asking
                // first makes the proxy refuse the headers, not the uploaded body.
                request.Headers.ExpectContinue = true;
            }

            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (sentBasic && WantsAnotherScheme(request, response))
            {
                _sendBasic = false;
            }

            return response;
        }

        /// <summary>
        /// A 407 that offers no Basic, or a request the handler answered with another scheme (it
        /// then replaced the header on the request).
        /// </summary>
        private static bool WantsAnotherScheme(HttpRequestMessage request, HttpResponseMessage response)
        {
            if (response.StatusCode == HttpStatusCode.ProxyAuthenticationRequired)
            {
                foreach (var challenge in response.Headers.ProxyAuthenticate)
                {
                    if (string.Equals(challenge.Scheme, Basic, StringComparison.OrdinalIgnoreCase))
                    {
                        return false;
                    }
                }

                return true;
            }

            var sent = request.Headers.ProxyAuthorization;
            return sent != null && !string.Equals(sent.Scheme, Basic, StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>Made per request from the credential, as the handler makes its own (UTF-8, DOMAIN\user when a domain is given).</summary>
        private AuthenticationHeaderValue BasicHeader()
        {
            var user = string.IsNullOrEmpty(_credential.Domain) ? _credential.UserName : _credential.Domain + "\\" + _credential.UserName;
            return new AuthenticationHeaderValue(Basic, Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + _credential.Password)));
        }
    }
}
