using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Security;
using System.Security.Authentication;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using static System.FormattableString;

namespace AosMail.Engine
{
    /// <summary>
    /// One logged-in conversation with one AOS server: its HttpClient, its session id and the
    /// credential to renew it (docs/aos-protocol.md B14). Safe to share across threads. The session id never leaves
    /// this class except in request URLs, which are never logged.
    /// </summary>
    public sealed partial class AosConnection : IDisposable
    {
        private readonly string _base;
        private readonly HttpClient _http;
        private readonly SecureString _password;
        private readonly TimeSpan _timeout;
        private readonly string _proxyRefusal;
        private readonly SemaphoreSlim _loginGate = new SemaphoreSlim(1, 1);
        private volatile string? _sid;
        private long _lastUsedUtcTicks;
        private volatile bool _disposed;

        /// <summary>
        /// Checks the settings (B1, B16) without any network access. Once constructed, the
        /// connection owns <see cref="AosConnectionSettings.Password"/> and disposes it.
        /// </summary>
        public AosConnection(AosConnectionSettings settings)
            : this(settings, null)
        {
        }

        /// <summary>For tests: the given handler replaces the network (it is disposed with the connection).</summary>
        internal AosConnection(AosConnectionSettings settings, HttpMessageHandler? handler)
        {
            if (settings == null)
            {
                throw new ArgumentNullException(nameof(settings));
            }

            _base = CheckServer(settings.Server, settings.AllowUnencryptedAuthentication);
            if (string.IsNullOrWhiteSpace(settings.UserName) || settings.Password == null || settings.Password.Length == 0)
            {
                // An empty password cannot log in: refused here, so the server never sees the attempt.
                throw new AosException(AosErrorIds.NoCredential, AosErrorCategory.InvalidArgument,
                    $"A user name and a password are needed to log in to {settings.Server.AbsoluteUri}{(string.IsNullOrWhiteSpace(settings.UserName) ? "" : $"; the password given for '{settings.UserName}' is empty")}.",
                    settings.UserName);
            }

            AosProxy.Check(settings);
            CheckMailbox(settings.InboxMailbox);
            CheckMailbox(settings.DraftMailbox);
            CheckMailbox(settings.OutboxMailbox);

            SplitUserName(settings.UserName, settings.Domain, out var name, out var host);
            UserName = name;
            Domain = host;
            Server = settings.Server;
            InboxMailbox = settings.InboxMailbox;
            DraftMailbox = settings.DraftMailbox;
            OutboxMailbox = settings.OutboxMailbox;
            _timeout = settings.Timeout;
            Proxy = settings.Proxy;
            _proxyRefusal = AosProxy.RefusalReason(settings);

            _http = new HttpClient(handler ?? AosProxy.Apply(AosHttpHandlerFactory.Create(settings.SkipCertificateCheck), settings), disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.ExpectContinue = false;
            var version = typeof(AosConnection).Assembly.GetName().Version ?? new Version(0, 0, 0);
            _http.DefaultRequestHeaders.UserAgent.ParseAdd($"AosMail/{version.ToString(3)}");

            _password = settings.Password;
            Created = DateTimeOffset.Now;
            _lastUsedUtcTicks = Created.UtcTicks;
        }

        /// <summary>The most requests one caller keeps in flight on a connection (Send-AosMessage -ThrottleLimit 64).</summary>
        public const int MaxRequestsInFlight = 64;

        /// <summary>For tests: how the connection waits before a retry.</summary>
        internal Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = (delay, token) => Task.Delay(delay, token);

        public Uri Server { get; }

        /// <summary>The proxy every request goes through, or null for the system's default proxy.</summary>
        public Uri? Proxy { get; }

        /// <summary>The login name as sent in "name" (B3).</summary>
        public string UserName { get; }

        /// <summary>The host as sent in "host", or null.</summary>
        public string? Domain { get; }

        public DateTimeOffset Created { get; }

        public DateTimeOffset LastUsed => new DateTimeOffset(Interlocked.Read(ref _lastUsedUtcTicks), TimeSpan.Zero).ToLocalTime();

        public bool IsLoggedIn => _sid != null;

        /// <summary>True once disposed (the session was removed): no more requests.</summary>
        public bool IsClosed => _disposed;
        public string InboxMailbox { get; }
        public string DraftMailbox { get; }
        public string OutboxMailbox { get; }

        /// <summary>The account as users write it: name@host when a host is known, else the name.</summary>
        public string Account => Domain == null ? UserName : $"{UserName}@{Domain}";

        /// <summary>Logs in unless already logged in; concurrent callers share one login.</summary>
        public async Task EnsureLoggedInAsync(IAosLog log, CancellationToken cancellationToken)
        {
            ThrowIfDisposed();
            await EnsureSessionAsync(log ?? NullAosLog.Instance, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>B3/B4. Retries only faults where nothing reached the server.</summary>
        public async Task LoginAsync(IAosLog log, CancellationToken cancellationToken)
        {
            ThrowIfDisposed();
            log = log ?? NullAosLog.Instance;
            await _loginGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Checked again under the gate: a caller that saw no session while another request
                // was renewing it (RenewAsync clears the stale id first) must not log in a second time.
                if (_sid == null)
                {
                    await LoginCoreAsync(log, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _loginGate.Release();
            }
        }

        /// <summary>
        /// Posts a prepared submission (B13 to B15): renews an expired session once and repeats;
        /// reports AosOutcomeUnknown, never retrying, when a send may have reached the server.
        /// Logs in first when not yet logged in.
        /// </summary>
        public Task<AosSubmitResult> SubmitAsync(AosPreparedSubmission submission, IAosLog log, CancellationToken cancellationToken) =>
            SubmitAsync(submission, log, null, cancellationToken);

        /// <summary>
        /// As <see cref="SubmitAsync(AosPreparedSubmission, IAosLog, CancellationToken)"/>; an upload of
        /// <see cref="AosProtocol.ProgressThresholdBytes"/> or more reports its bytes sent to
        /// <paramref name="progress"/> (throttled), when one is given.
        /// </summary>
        public async Task<AosSubmitResult> SubmitAsync(AosPreparedSubmission submission, IAosLog log, IAosProgress? progress, CancellationToken cancellationToken)
        {
            if (submission == null)
            {
                throw new ArgumentNullException(nameof(submission));
            }

            log = log ?? NullAosLog.Instance;
            var total = Stopwatch.StartNew();
            string what = submission.Kind == AosSubmitKind.Send ? "the send" : "the draft save";
            var (answer, renewed, alive) = await PostInSessionAsync(AosProtocol.SubmitCommand, submission.Fields, submission.Kind, what, submission.Subject,
                log, cancellationToken, progress: progress).ConfigureAwait(false);
            if (AosAnswer.IsOk(answer.Text) && answer.BodyComplete)
            {
                log.Verbose($"{AosProtocol.SubmitCommand}: the server confirmed {what}{(renewed ? " (after renewing the session)" : "")}.");
                return new AosSubmitResult(submission.Kind, DateTimeOffset.Now, total.Elapsed, answer.Text.Trim(), answer.RequestBytes, renewed);
            }

            if (AosAnswer.IsFalse(answer.Text))
            {
                throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.InvalidOperation,
                    $"The server refused {what} ({answer.Status}): {Quote(answer.Text)}{UnclearSessionCheck(alive)}.", submission.Subject);
            }

            if (!answer.BodyComplete)
            {
                throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                    Invariant($"The server answered {what} before the request was complete ({answer.Status}, {Quote(answer.Text)}), so it never had it whole: nothing was sent."),
                    submission.Subject);
            }

            // B13: a 2xx answer after the whole request is neither a confirmation nor a refusal: the server may have acted.
            throw OutcomeUnknown(submission.Kind, AosErrorCategory.ProtocolError,
                $"the server did not confirm {what} ({answer.Status}): expected OK, got {Quote(answer.Text)}. Check that {Server.AbsoluteUri} is the AOS base address",
                null);
        }

        /// <summary>sqVry: true while the session is alive; false when expired or never logged in.</summary>
        public async Task<bool> TestAsync(IAosLog log, CancellationToken cancellationToken)
        {
            ThrowIfDisposed();
            log = log ?? NullAosLog.Instance;
            var sid = _sid;
            if (sid == null)
            {
                log.Verbose($"Not logged in to {Server.AbsoluteUri}; no session to check.");
                return false;
            }

            var answer = await VerifyAsync(sid, log, cancellationToken).ConfigureAwait(false);
            if (answer.IsRedirect)
            {
                throw RedirectRefused(AosProtocol.VerifyCommand, answer);
            }

            if (!answer.IsSuccess)
            {
                throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.InvalidOperation,
                    $"The server refused the session check ({answer.Status}): {Quote(answer.Text)}.", Server);
            }

            return AosAnswer.IsTrue(answer.Text);
        }

        /// <summary>Drops the session locally (B20) and clears the stored password.</summary>
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _sid = null;
            _http.Dispose();
            _password.Dispose();
        }

        public override string ToString() => $"{Account} at {Server.AbsoluteUri}";

        // ---- settings (B1, B3, B16) ----

        /// <summary>Validates the base URI and returns it without a trailing "/".</summary>
        internal static string CheckServer(Uri? server, bool allowUnencrypted)
        {
            if (server == null)
            {
                throw new AosException(AosErrorIds.InvalidServer, AosErrorCategory.InvalidArgument,
                    "A server address is needed, for example https://mail.example.com.", null);
            }

            if (server.OriginalString.IndexOf('@') >= 0)
            {
                // Never echoed: what comes before the '@' may be a password.
                throw new AosException(AosErrorIds.InvalidServer, AosErrorCategory.InvalidArgument,
                    "The server address holds a user name or password ('...@'): give it without them (https://mail.example.com) and the account as -Credential, so that it never shows in a URL.",
                    ShownServer(server));
            }

            if (!server.IsAbsoluteUri
                || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps)
                || server.Query.Length > 0 || server.Fragment.Length > 0 || server.UserInfo.Length > 0
                || server.OriginalString.IndexOf('?') >= 0 || server.OriginalString.IndexOf('#') >= 0)
            {
                throw new AosException(AosErrorIds.InvalidServer, AosErrorCategory.InvalidArgument,
                    $"'{server.OriginalString}' is not a usable server address: give an absolute http or https URI without user name, query or fragment, for example https://mail.example.com or https://mail.example.com/cgi-bin/vo.", server);
            }

            if (server.Scheme == Uri.UriSchemeHttp && !allowUnencrypted)
            {
                throw new AosException(AosErrorIds.UnencryptedRefused, AosErrorCategory.SecurityError,
                    $"'{server.AbsoluteUri}' is not encrypted (http), so the password would cross the network in clear text. Use https, or allow it explicitly with -AllowUnencryptedAuthentication.", server);
            }

            return server.AbsoluteUri.TrimEnd('/');
        }

        /// <summary>
        /// A server address as it may be shown (an error's target): as given, or, when it holds an
        /// '@' (user info, perhaps a password), only its scheme, host and port, or nothing.
        /// </summary>
        public static object? ShownServer(Uri? server)
        {
            if (server == null || server.OriginalString.IndexOf('@') < 0)
            {
                return server;
            }

            return server.IsAbsoluteUri && (server.Scheme == Uri.UriSchemeHttp || server.Scheme == Uri.UriSchemeHttps)
                ? Invariant($"{server.Scheme}://{server.Host}:{server.Port}")
                : null;
        }

        /// <summary>B3: "name@host" gives name and host (split at the last "@"); Domain wins for the host.</summary>
        internal static void SplitUserName(string userName, string? domain, out string name, out string? host)
        {
            host = string.IsNullOrWhiteSpace(domain) ? null : domain!.Trim();
            int at = userName.LastIndexOf('@');
            if (at >= 0)
            {
                name = userName.Substring(0, at);
                if (host == null)
                {
                    var tail = userName.Substring(at + 1);
                    host = tail.Length == 0 ? null : tail;
                }
            }
            else
            {
                name = userName;
            }
        }

        // ---- login and renewal (B3, B4, B14) ----

        private async Task<string> EnsureSessionAsync(IAosLog log, CancellationToken cancellationToken)
        {
            var sid = _sid;
            if (sid != null)
            {
                return sid;
            }

            await _loginGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return _sid ?? await LoginCoreAsync(log, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _loginGate.Release();
            }
        }

        /// <summary>Logs in again unless another request already replaced the stale session (no renewal storm).</summary>
        private async Task<string> RenewAsync(string staleSid, IAosLog log, CancellationToken cancellationToken)
        {
            await _loginGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var current = _sid;
                if (current != null && !string.Equals(current, staleSid, StringComparison.Ordinal))
                {
                    log.Verbose("The session was already renewed by another request; using the new one.");
                    return current;
                }

                _sid = null;
                try
                {
                    return await LoginCoreAsync(log, cancellationToken).ConfigureAwait(false);
                }
                catch (AosException ex) when (ex.ErrorId == AosErrorIds.LoginFailed)
                {
                    throw new AosException(AosErrorIds.SessionExpired, AosErrorCategory.AuthenticationError,
                        $"The session expired and logging in again as {Account} failed: {ex.Message}", Server, ex);
                }
            }
            finally
            {
                _loginGate.Release();
            }
        }

        /// <summary>Callers hold the login gate.</summary>
        private async Task<string> LoginCoreAsync(IAosLog log, CancellationToken cancellationToken)
        {
            var fields = new List<AosFormField>
            {
                AosFormField.Plain(AosProtocol.FieldApi, AosProtocol.ApiMachineReadable),
                AosFormField.Plain(AosProtocol.FieldName, UserName),
            };
            if (Domain != null)
            {
                fields.Add(AosFormField.Plain(AosProtocol.FieldHost, Domain));
            }

            fields.Add(AosFormField.Secured(AosProtocol.FieldPassword, _password));

            var answer = await PostAsync(AosProtocol.LoginCommand, null, fields, null, log, cancellationToken).ConfigureAwait(false);
            if (answer.IsRedirect)
            {
                throw RedirectRefused(AosProtocol.LoginCommand, answer);
            }

            if (answer.Code == (int)HttpStatusCode.ProxyAuthenticationRequired)
            {
                throw AosProxy.Refused(Proxy, _proxyRefusal, Server, AosErrorIds.LoginFailed, "the login", answer.Status, Account);
            }

            if (!answer.IsSuccess || !AosAnswer.IsSessionId(answer.Text))
            {
                var hint = answer.Text.IndexOf('<') >= 0
                    ? $" The answer looks like a web page: check that {Server.AbsoluteUri} is the AOS base address."
                    : "";
                throw new AosException(AosErrorIds.LoginFailed, AosErrorCategory.AuthenticationError,
                    $"Login as {Account} at {Server.AbsoluteUri} failed ({answer.Status}): {Quote(answer.Text)}.{hint}", Account);
            }

            var sid = answer.Text.Trim();
            _sid = sid;
            log.Verbose($"Logged in as {Account}.");
            return sid;
        }

        private Task<HttpAnswer> VerifyAsync(string sid, IAosLog log, CancellationToken cancellationToken)
        {
            var fields = new[] { AosFormField.Plain(AosProtocol.FieldSid, sid) };
            return PostAsync(AosProtocol.VerifyCommand, null, fields, null, log, cancellationToken);
        }

        /// <summary>
        /// B14, after a "false": asks sqVry whether <paramref name="sid"/> is alive. True or false as
        /// the server says; null when its answer is neither (the caller then reports the refusal).
        /// </summary>
        private async Task<bool?> IsSessionAliveAsync(string sid, IAosLog log, CancellationToken cancellationToken)
        {
            var check = await VerifyAsync(sid, log, cancellationToken).ConfigureAwait(false);
            if (!check.IsSuccess) return null;
            if (AosAnswer.IsTrue(check.Text)) return true;
            if (AosAnswer.IsFalse(check.Text)) return false;
            return null;
        }

        /// <summary>
        /// Posts a command in the session (B13, B14): a redirect or a non-2xx answer is an error
        /// naming <paramref name="what"/>; a "false" from an expired session logs in again and
        /// repeats the command once (the server refused it, so nothing was done). Returns the
        /// answer, which is "false" only when the session is alive, or sqVry gave no clear answer
        /// (Alive null). Logs in first when not yet logged in.
        /// </summary>
        private async Task<(HttpAnswer Answer, bool Renewed, bool? Alive)> PostInSessionAsync(string command, IReadOnlyList<AosFormField> fields,
            AosSubmitKind? submitKind, string what, object? target, IAosLog log, CancellationToken cancellationToken,
            AosAnswerReader? readAnswer = null, IAosProgress? progress = null)
        {
            ThrowIfDisposed();
            var sid = await EnsureSessionAsync(log, cancellationToken).ConfigureAwait(false);
            bool renewed = false;
            while (true)
            {
                var answer = await PostAsync(command, sid, fields, submitKind, log, cancellationToken, readAnswer, progress).ConfigureAwait(false);
                if (answer.IsRedirect)
                {
                    throw RedirectRefused(command, answer);
                }

                if (answer.Code == (int)HttpStatusCode.ProxyAuthenticationRequired)
                {
                    throw AosProxy.Refused(Proxy, _proxyRefusal, Server, AosErrorIds.ServerRejected, what, answer.Status, target);
                }

                if (!answer.IsSuccess)
                {
                    throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.InvalidOperation,
                        $"The server refused {what} ({answer.Status}): {Quote(answer.Text)}.", target);
                }

                if (!AosAnswer.IsFalse(answer.Text))
                {
                    return (answer, renewed, true);
                }

                bool? alive = await IsSessionAliveAsync(sid, log, cancellationToken).ConfigureAwait(false);
                if (alive != false)
                {
                    return (answer, renewed, alive);
                }

                if (renewed)
                {
                    throw new AosException(AosErrorIds.SessionExpired, AosErrorCategory.AuthenticationError,
                        $"The server refused {what} again right after the session was renewed, and says the new session expired too ({answer.Status}): "
                        + $"{Quote(answer.Text)}.{(submitKind.HasValue ? " Nothing was sent." : "")}", target);
                }

                log.Verbose($"{command}: refused and {AosProtocol.VerifyCommand} says the session expired; logging in again and repeating {what} once.");
                sid = await RenewAsync(sid, log, cancellationToken).ConfigureAwait(false);
                renewed = true;
            }
        }

        /// <summary>B13: the server's text for a message, with the password masked should the server quote it.</summary>
        private string Quote(string answer) => AosAnswer.Quote(answer, _disposed ? null : _password);

        /// <summary>Added to a refusal when sqVry could not tell whether the session is alive.</summary>
        private static string UnclearSessionCheck(bool? alive) => alive == null ? " (the session check gave no clear answer)" : "";

        private AosException RedirectRefused(string command, HttpAnswer answer)
        {
            var location = answer.Location == null ? "(no Location given)" : $"'{AosProtocol.SidAnywhere.Replace(answer.Location, AosProtocol.SidMask)}'";
            return new AosException(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                $"The server answered {command} with {answer.Status}, a redirect to {location}. Redirects are not followed: give the final address of the AOS server as -Server.", Server);
        }

        // ---- one request (B13, B15) ----

        /// <summary>
        /// Posts a form to base + "/" + [sid + "."] + command and returns the answer (2xx to 4xx).
        /// A transport fault or a 5xx is retried as <see cref="NextRetryDelay"/> allows, and
        /// otherwise becomes the error <see cref="FaultError"/> describes. With
        /// <paramref name="readAnswer"/>, a 2xx answer that is not "false" is streamed to it
        /// (a retry streams it again from the start).
        /// </summary>
        private async Task<HttpAnswer> PostAsync(string command, string? sid, IReadOnlyList<AosFormField> fields,
            AosSubmitKind? submitKind, IAosLog log, CancellationToken cancellationToken, AosAnswerReader? readAnswer = null, IAosProgress? progress = null)
        {
            var url = sid == null ? $"{_base}/{command}" : $"{_base}/{sid}.{command}";
            int notReachedFailures = 0;
            int reachedFailures = 0;
            while (true)
            {
                ThrowIfDisposed();
                int attempt = notReachedFailures + reachedFailures + 1;
                var outcome = await SendOnceAsync(url, command, fields, attempt, submitKind, log, cancellationToken, readAnswer, progress).ConfigureAwait(false);
                if (outcome.Answer != null)
                {
                    if (outcome.Answer.IsSuccess)
                    {
                        Interlocked.Exchange(ref _lastUsedUtcTicks, DateTimeOffset.UtcNow.UtcTicks);
                    }

                    return outcome.Answer;
                }

                log.Verbose($"{command}: {AosTransportFault.Explain(outcome.Fault)}: {outcome.Cause}.");
                var delay = NextRetryDelay(outcome.Fault, submitKind.HasValue, ref notReachedFailures, ref reachedFailures);
                if (delay == null)
                {
                    throw FaultError(command, outcome, submitKind, attempt);
                }

                log.Verbose(outcome.Fault == AosFaultKind.NotReached
                    ? Invariant($"{command}: nothing reached the server; retrying in {delay.Value.TotalMilliseconds} ms.")
                    : Invariant($"{command}: retrying once in {delay.Value.TotalMilliseconds} ms (safe: it changes nothing on the server)."));
                await Delay(delay.Value, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// B15: faults before the server was reached are retried (with back-off); faults after that
        /// are retried once for reads and logins, never for a submission; TLS failures, unreadable or
        /// changed attachments and requests cut before they were complete never (the upload would be repeated whole).
        /// Null: no more tries.
        /// </summary>
        private static TimeSpan? NextRetryDelay(AosFaultKind fault, bool isSubmission, ref int notReachedFailures, ref int reachedFailures)
        {
            switch (fault)
            {
                case AosFaultKind.NotReached:
                    return notReachedFailures < AosProtocol.NotReachedBackoff.Count ? AosProtocol.NotReachedBackoff[notReachedFailures++] : (TimeSpan?)null;
                case AosFaultKind.TlsFailure:
                case AosFaultKind.ContentChanged:
                case AosFaultKind.ContentUnreadable:
                case AosFaultKind.StalledBeforeSent:
                case AosFaultKind.CutBeforeSent:
                    return null;
                default:
                    if (isSubmission || reachedFailures >= AosProtocol.ReadRetriesAfterReach)
                    {
                        return null;
                    }

                    reachedFailures++;
                    return AosProtocol.ReadRetryDelay;
            }
        }

        /// <summary>The error for a fault that is not retried (again): "nothing was sent" or, for a submission, "outcome unknown".</summary>
        private AosException FaultError(string command, SendOutcome outcome, AosSubmitKind? submitKind, int attempts)
        {
            var cause = outcome.Cause;
            switch (outcome.Fault)
            {
                case AosFaultKind.NotReached when Proxy != null:
                    return AosProxy.NotReached(Proxy, Server, command, cause, attempts, outcome.Error);

                case AosFaultKind.NotReached:
                    return new AosException(AosErrorIds.ConnectionFailed, AosErrorCategory.ConnectionError,
                        Invariant($"Could not reach {Server.AbsoluteUri} ({command}): {cause}. Nothing was sent; tried {attempts} times."), Server, outcome.Error);

                case AosFaultKind.TlsFailure:
                    return new AosException(AosErrorIds.ConnectionFailed, AosErrorCategory.SecurityError,
                        $"The TLS connection to {Server.AbsoluteUri} could not be established ({command}): {cause}. Nothing was sent. "
                        + "If the server's certificate is self-signed or from a private authority, trust it on this machine, or use -SkipCertificateCheck (which accepts any certificate).",
                        Server, outcome.Error);

                case AosFaultKind.ContentChanged:
                    return new AosException(AosErrorIds.AttachmentChanged, AosErrorCategory.InvalidData,
                        $"{cause}. The request to {Server.AbsoluteUri} ({command}) was cut before it was complete, so nothing was sent. Send again once the file no longer changes.",
                        Server, outcome.Error);

                case AosFaultKind.StalledBeforeSent:
                    return new AosException(AosErrorIds.ConnectionFailed, AosErrorCategory.OperationTimeout,
                        $"The request {command} to {Server.AbsoluteUri} timed out before it was sent in full: {cause}. Nothing was sent.", Server, outcome.Error);

                case AosFaultKind.CutBeforeSent:
                    return new AosException(AosErrorIds.ConnectionFailed, AosErrorCategory.ConnectionError,
                        $"The connection to {Server.AbsoluteUri} broke before the request {command} was sent in full: {cause}. Nothing was sent.", Server, outcome.Error);

                case AosFaultKind.ContentUnreadable:
                    return new AosException(AosErrorIds.AttachmentUnreadable, AosErrorCategory.ReadError,
                        $"{cause}. The request to {Server.AbsoluteUri} ({command}) was cut before it was complete, so nothing was sent.", Server, outcome.Error);
            }

            var category = outcome.Fault == AosFaultKind.Timeout ? AosErrorCategory.OperationTimeout : AosErrorCategory.ConnectionError;
            if (submitKind == null)
            {
                return new AosException(AosErrorIds.ConnectionFailed, category,
                    Invariant($"The request {command} to {Server.AbsoluteUri} failed: {cause} (tried {attempts} times)."), Server, outcome.Error);
            }

            return OutcomeUnknown(submitKind.Value, category, $"{cause} after the {(submitKind.Value == AosSubmitKind.Send ? "message" : "draft")} was posted to {Server.AbsoluteUri}", outcome.Error);
        }

        /// <summary>
        /// B13, B15: the server may have acted on a submission (a send is not idempotent), so it is
        /// reported, not repeated. <paramref name="cause"/> is a phrase: what happened.
        /// </summary>
        private AosException OutcomeUnknown(AosSubmitKind kind, AosErrorCategory category, string cause, Exception? inner) =>
            new AosException(AosErrorIds.OutcomeUnknown, category,
                $"The outcome is unknown: {cause}. "
                + (kind == AosSubmitKind.Send
                    ? "The message may or may not have been sent. It was not retried, so that it is not sent twice; check the Outbox or with a recipient before sending again."
                    : "The draft may or may not have been saved. It was not retried, so that it is not saved twice; check the Draft mailbox before saving again."),
                Server, inner);

        /// <summary>
        /// One attempt, in its three stages (<see cref="AosAttempt"/>): connect, upload, answer.
        /// Returns the answer, or the fault that stopped it, classified by the stage it reached
        /// (B15, B22). A cancellation by the caller is thrown as it is. B22: the request's timer
        /// runs out only when nothing moves for the timeout (connecting, a stretch of upload,
        /// waiting for and reading the answer, each stretch of a streamed answer).
        /// </summary>
        private async Task<SendOutcome> SendOnceAsync(string url, string command, IReadOnlyList<AosFormField> fields, int attemptNumber,
            AosSubmitKind? submitKind, IAosLog log, CancellationToken cancellationToken, AosAnswerReader? readAnswer, IAosProgress? progress)
        {
            using (var attempt = new AosAttempt(_timeout, progress, command, cancellationToken))
            using (var content = new AosFormContent(fields, attempt.Sent, attempt.Token))
            using (var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content })
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    // Measuring reads the attachments once: one that cannot be read fails here, before the wire.
                    attempt.Start(content.Length);
                    // B22: a large body asks first, so that a server refusing it at once (413) costs no upload.
                    request.Headers.ExpectContinue = attempt.Size >= AosProtocol.AskFirstMinBytes;
                    LogRequest(log, command, fields, attempt.Size, attemptNumber, content);
                    watch.Restart();
                    using (var response = await ConnectAndUploadAsync(request, attempt).ConfigureAwait(false))
                    {
                        return await AnswerAsync(response, command, submitKind, attempt, readAnswer, log, watch).ConfigureAwait(false);
                    }
                }
                catch (ReaderFailure failure)
                {
                    ExceptionDispatchInfo.Capture(failure.InnerException!).Throw();
                    throw;
                }
                catch (Exception ex) when (cancellationToken.IsCancellationRequested && IsAbort(ex))
                {
                    if (ex is OperationCanceledException)
                    {
                        throw;
                    }

                    throw new OperationCanceledException(ex.Message, ex, cancellationToken);
                }
                catch (Exception ex) when (attempt.Timer.Expired && IsAbort(ex))
                {
                    return TimedOut(attempt, ex);
                }
                catch (Exception ex) when (IsTransportFault(ex))
                {
                    var fault = ex is AosAnswerReadException read ? read.InnerException! : ex;
                    var kind = AosTransportFault.Classify(fault, attempt.Stage, Server.Scheme == Uri.UriSchemeHttps);
                    var cause = AosTransportFault.Describe(fault);
                    return new SendOutcome(kind, kind == AosFaultKind.CutBeforeSent ? Invariant($"{cause} ({attempt.Written} of {attempt.Size} bytes sent)") : cause, fault);
                }
            }
        }

        /// <summary>
        /// Connect and upload: the handler connects (and shakes hands for TLS), then asks for the
        /// body and writes it; the attempt's stage follows (<see cref="AosAttempt.Sent"/>). Returns
        /// at the answer's head.
        /// </summary>
        private Task<HttpResponseMessage> ConnectAndUploadAsync(HttpRequestMessage request, AosAttempt attempt) =>
            _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);

        /// <summary>
        /// Answer: reads what the server said (B13, B23). An answer whose head came before the body
        /// was complete is about a request the server never had whole: nothing was sent, whatever
        /// its status. After a complete body, a 5xx is a fault where the request reached the server
        /// (B15), and an oversized 2xx answer to a submission leaves its outcome unknown. A streamed
        /// answer goes to <paramref name="readAnswer"/>.
        /// </summary>
        private async Task<SendOutcome> AnswerAsync(HttpResponseMessage response, string command, AosSubmitKind? submitKind, AosAttempt attempt,
            AosAnswerReader? readAnswer, IAosLog log, Stopwatch watch)
        {
            bool bodyComplete = attempt.AnswerArrived();
            // Reads that ignore the token (the .NET Framework's response stream) are cut by disposing the response.
            using (attempt.Token.Register(() => response.Dispose()))
            using (var body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false))
            {
                int code = (int)response.StatusCode;
                long? length = response.Content.Headers.ContentLength;
                // An answer too large to read is a refusal unless the server may have acted on the request.
                var actedOn = bodyComplete && code >= 200 && code < 300 ? submitKind : null;
                byte[] bytes;
                long received;
                if (readAnswer != null && code >= 200 && code < 300)
                {
                    // The start decides: "false" is an answer to handle (B14); anything else is the message.
                    var start = new byte[RawTextPrefix];
                    int got = await ReadAtMostAsync(body, start, attempt.Token).ConfigureAwait(false);
                    if (AosAnswer.IsFalse(AosAnswer.Decode(Prefix(start, got))))
                    {
                        bytes = Concat(start, got, await ReadBoundedAsync(body, null, AosProtocol.AnswerMaxBytes - got, command, actedOn, attempt.Token).ConfigureAwait(false));
                        received = bytes.Length;
                    }
                    else
                    {
                        CheckMessageStart(command, start, got);
                        attempt.Timer.Enter(AosRequestStage.Streaming);
                        var stream = new AosAnswerStream(start, got, body, attempt.Timer);
                        try
                        {
                            await readAnswer(stream, length, attempt.Token).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (!(ex is AosAnswerReadException || ex is OperationCanceledException || ex is ObjectDisposedException))
                        {
                            throw new ReaderFailure(ex);
                        }

                        bytes = Prefix(start, got);
                        received = stream.BytesRead;
                    }
                }
                else
                {
                    bytes = await ReadBoundedAsync(body, length, AosProtocol.AnswerLimit(command) ?? AosProtocol.AnswerMaxBytes, command, actedOn, attempt.Token).ConfigureAwait(false);
                    received = bytes.Length;
                }

                attempt.Finish();
                var answer = new HttpAnswer(code, response.ReasonPhrase, AosAnswer.Decode(bytes),
                    IsRedirectStatus(response.StatusCode) ? response.Headers.Location?.OriginalString : null, attempt.Size, bodyComplete)
                {
                    ServerClockOffset = response.Headers.Date - DateTimeOffset.UtcNow,
                };
                if (log.IsVerboseEnabled)
                {
                    log.Verbose(Invariant($"{command}: {answer.Status}, answer {received} bytes, {watch.ElapsedMilliseconds} ms{(bodyComplete ? "" : Invariant($", before the request was complete ({attempt.Written} of {attempt.Size} bytes sent)"))}."));
                }

                if (log.IsDebugEnabled)
                {
                    log.Debug($"Response Content-Type: {response.Content.Headers.ContentType?.ToString() ?? "(none)"}.");
                }

                return answer.Code < 500 || !bodyComplete
                    ? new SendOutcome(answer)
                    : new SendOutcome(AosFaultKind.MayHaveReached, $"the server answered {answer.Status} {Quote(answer.Text)}", null);
            }
        }

        /// <summary>B22: what a run-out timer means, by where the request was.</summary>
        private static SendOutcome TimedOut(AosAttempt attempt, Exception error)
        {
            var seconds = Invariant($"{attempt.Timer.Timeout.TotalSeconds:0.###} s");
            switch (attempt.Stage)
            {
                case AosRequestStage.Connecting:
                    return new SendOutcome(AosFaultKind.StalledBeforeSent, $"no connection within {seconds}", error);
                case AosRequestStage.Uploading:
                    return new SendOutcome(AosFaultKind.StalledBeforeSent,
                        Invariant($"the upload stalled, no bytes moved for {seconds} ({attempt.Written} of {attempt.Size} bytes sent)"), error);
                case AosRequestStage.Streaming:
                    return new SendOutcome(AosFaultKind.Timeout, $"the answer stalled, nothing arrived for {seconds}", error);
                default:
                    return new SendOutcome(AosFaultKind.Timeout,
                        attempt.AnswerStarted ? $"the answer did not arrive in full within {seconds}" : $"no answer within {seconds}", error);
            }
        }

        /// <summary>How an aborted request can fail: cancelled, cut (the response disposed) or a transport error.</summary>
        private static bool IsAbort(Exception ex) => ex is OperationCanceledException || ex is ObjectDisposedException || IsTransportFault(ex);

        private static bool IsTransportFault(Exception ex) =>
            ex is HttpRequestException || ex is IOException || ex is SocketException || ex is AuthenticationException;

        /// <summary>
        /// B23: the whole answer, refused unread when its Content-Length or what arrives goes past
        /// <paramref name="limit"/>: AosServerRejected (ProtocolError), or AosOutcomeUnknown when
        /// <paramref name="actedOn"/> names a submission the server may have acted on (B13).
        /// </summary>
        private async Task<byte[]> ReadBoundedAsync(Stream body, long? length, long limit, string command, AosSubmitKind? actedOn, CancellationToken cancellationToken)
        {
            if (length > limit)
            {
                throw AnswerTooLarge(command, limit, length, actedOn);
            }

            using (var buffer = new MemoryStream(length.HasValue ? (int)length.Value : 256))
            {
                var chunk = new byte[16 * 1024];
                int read;
                while ((read = await body.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > limit)
                    {
                        throw AnswerTooLarge(command, limit, null, actedOn);
                    }

                    buffer.Write(chunk, 0, read);
                }

                return buffer.ToArray();
            }
        }

        private AosException AnswerTooLarge(string command, long limit, long? length, AosSubmitKind? actedOn)
        {
            var what = Invariant($"the server's answer to {command} is larger than {limit} bytes{(length.HasValue ? Invariant($" ({length} bytes)") : "")}, more than any AOS answer to it holds, so it was not read");
            return actedOn.HasValue
                ? OutcomeUnknown(actedOn.Value, AosErrorCategory.ProtocolError, what, null)
                : new AosException(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                    $"The {what} and the request is not taken as confirmed. Check that {Server.AbsoluteUri} is the AOS base address.", Server);
        }

        /// <summary>A streamed answer must be a message: not empty, and not a web page (a login page, a proxy's error page).</summary>
        private void CheckMessageStart(string command, byte[] start, int length)
        {
            var text = AosAnswer.Decode(Prefix(start, length));
            if (length == 0)
            {
                throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                    $"The server answered {command} with an empty body.", Server);
            }

            var head = text.TrimStart();
            if (head.StartsWith("<!doctype html", StringComparison.OrdinalIgnoreCase) || head.StartsWith("<html", StringComparison.OrdinalIgnoreCase))
            {
                throw new AosException(AosErrorIds.ServerRejected, AosErrorCategory.ProtocolError,
                    $"The server answered {command} with a web page, not a message: {Quote(text)}. Check that {Server.AbsoluteUri} is the AOS base address.", Server);
            }
        }

        /// <summary>Fills <paramref name="buffer"/> or reads to the end; returns the bytes read.</summary>
        private static async Task<int> ReadAtMostAsync(Stream body, byte[] buffer, CancellationToken cancellationToken)
        {
            int total = 0;
            int read;
            while (total < buffer.Length && (read = await body.ReadAsync(buffer, total, buffer.Length - total, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
            }

            return total;
        }

        private static byte[] Prefix(byte[] bytes, int count)
        {
            if (count == bytes.Length)
            {
                return bytes;
            }

            var prefix = new byte[count];
            Buffer.BlockCopy(bytes, 0, prefix, 0, count);
            return prefix;
        }

        private static byte[] Concat(byte[] first, int firstCount, byte[] second)
        {
            var all = new byte[firstCount + second.Length];
            Buffer.BlockCopy(first, 0, all, 0, firstCount);
            Buffer.BlockCopy(second, 0, all, firstCount, second.Length);
            return all;
        }

        /// <summary>Carries the answer reader's own failure (not a transport fault) out of the request's fault handling.</summary>
        private sealed class ReaderFailure : Exception
        {
            public ReaderFailure(Exception inner)
                : base(inner.Message, inner)
            {
            }
        }

        /// <summary>Built only when wanted: formatting a request line costs more than a bulk send can spare.</summary>
        private void LogRequest(IAosLog log, string command, IReadOnlyList<AosFormField> fields, long size, int attempt, HttpContent content)
        {
            if (log.IsVerboseEnabled)
            {
                log.Verbose(Invariant($"POST {command}: fields {DescribeFields(fields)} ({size} bytes{(attempt > 1 ? Invariant($", attempt {attempt}") : "")})."));
            }

            if (log.IsDebugEnabled)
            {
                log.Debug(Invariant($"Request headers: Content-Type: {content.Headers.ContentType}; Content-Length: {size}; User-Agent: {_http.DefaultRequestHeaders.UserAgent}."));
            }
        }

        /// <summary>3xx: only then is the Location header parsed (B16).</summary>
        private static bool IsRedirectStatus(HttpStatusCode status) => (int)status >= 300 && (int)status < 400;

        /// <summary>Field names only; the body as a size (never values: they hold passwords, SIDs and content).</summary>
        internal static string DescribeFields(IReadOnlyList<AosFormField> fields)
        {
            var builder = new StringBuilder();
            foreach (var field in fields)
            {
                if (builder.Length > 0)
                {
                    builder.Append(", ");
                }

                builder.Append(field.Name);
                if (field.Name == AosProtocol.FieldBody && field.Value != null)
                {
                    builder.Append(" [").Append(Encoding.UTF8.GetByteCount(field.Value).ToString(CultureInfo.InvariantCulture)).Append(" bytes]");
                }
                else if (field.Writer is AosBodyFile file)
                {
                    builder.Append(" [").Append(file.Utf8Length.ToString(CultureInfo.InvariantCulture)).Append(" bytes, streamed from the body file]");
                }
                else if (field.IsStreamed)
                {
                    builder.Append(" [MIME, streamed]");
                }
            }

            return builder.ToString();
        }

        private void ThrowIfDisposed()
        {
            if (_disposed)
            {
                throw new ObjectDisposedException(nameof(AosConnection), $"This connection to {Server.AbsoluteUri} was closed.");
            }
        }

        /// <summary>One attempt's result: an answer, or the fault that stopped it.</summary>
        private sealed class SendOutcome
        {
            public SendOutcome(HttpAnswer answer) => Answer = answer;

            public SendOutcome(AosFaultKind fault, string cause, Exception? error)
            {
                Fault = fault;
                Cause = cause;
                Error = error;
            }

            public HttpAnswer? Answer { get; }
            public AosFaultKind Fault { get; }
            public string Cause { get; } = "";
            public Exception? Error { get; }
        }

        /// <summary>What the server answered (the body decoded as UTF-8, B21).</summary>
        private sealed class HttpAnswer
        {
            public HttpAnswer(int code, string? reason, string text, string? location, long requestBytes, bool bodyComplete)
            {
                Code = code;
                BodyComplete = bodyComplete;
                Status = Invariant($"HTTP {code}{(string.IsNullOrEmpty(reason) ? "" : " " + reason)}");
                Text = text;
                Location = location;
                RequestBytes = requestBytes;
            }

            public int Code { get; }
            public string Status { get; }
            public string Text { get; }
            public string? Location { get; }
            public long RequestBytes { get; }

            /// <summary>False when the answer came before the request's body was complete: the server never had the request whole.</summary>
            public bool BodyComplete { get; }

            /// <summary>
            /// The server's HTTP Date header less this machine's clock when the answer arrived: how far the
            /// server's clock is ahead (at most a second and the answer's travel time too little); null without a Date header.
            /// </summary>
            public TimeSpan? ServerClockOffset { get; set; }

            public bool IsSuccess => Code >= 200 && Code < 300;
            public bool IsRedirect => IsRedirectStatus((HttpStatusCode)Code);
        }
    }
}
