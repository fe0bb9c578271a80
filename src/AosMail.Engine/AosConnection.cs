using System;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>
    /// One logged-in conversation with one AOS server: its HttpClient, its session id and the
    /// credential to renew it (B14). Safe to share across threads. The session id never leaves
    /// this class except in request URLs, which are never logged.
    /// </summary>
    public sealed class AosConnection : IDisposable
    {
        /// <summary>Checks the settings (B1, B16) without any network access.</summary>
        public AosConnection(AosConnectionSettings settings)
        {
            throw new NotImplementedException();
        }

        public Uri Server => throw new NotImplementedException();

        /// <summary>The login name as sent in "name" (B3).</summary>
        public string UserName => throw new NotImplementedException();

        /// <summary>The host as sent in "host", or null.</summary>
        public string? Domain => throw new NotImplementedException();

        public DateTimeOffset Created => throw new NotImplementedException();
        public DateTimeOffset LastUsed => throw new NotImplementedException();
        public bool IsLoggedIn => throw new NotImplementedException();
        public string InboxMailbox => throw new NotImplementedException();
        public string DraftMailbox => throw new NotImplementedException();
        public string OutboxMailbox => throw new NotImplementedException();

        /// <summary>B3/B4. Retries only faults where nothing reached the server.</summary>
        public Task LoginAsync(IAosLog log, CancellationToken cancellationToken) => throw new NotImplementedException();

        /// <summary>
        /// Posts a prepared submission (B13 to B15): renews an expired session once and repeats;
        /// reports AosOutcomeUnknown, never retrying, when a send may have reached the server.
        /// Logs in first when not yet logged in.
        /// </summary>
        public Task<AosSubmitResult> SubmitAsync(AosPreparedSubmission submission, IAosLog log, CancellationToken cancellationToken) => throw new NotImplementedException();

        /// <summary>sqVry: true while the session is alive; false when expired or never logged in.</summary>
        public Task<bool> TestAsync(IAosLog log, CancellationToken cancellationToken) => throw new NotImplementedException();

        /// <summary>Drops the session locally (B20) and clears the stored password.</summary>
        public void Dispose() => throw new NotImplementedException();

        public override string ToString() => throw new NotImplementedException();
    }
}
