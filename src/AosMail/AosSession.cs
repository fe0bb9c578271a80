using System;
using AosMail.Engine;

namespace AosMail
{
    /// <summary>
    /// A logged-in AOS session as the user sees it. The session id and the password live in the
    /// engine's connection, which is internal: nothing here formats, serializes or prints them.
    /// </summary>
    public sealed class AosSession
    {
        internal AosSession(int id, AosConnection connection)
        {
            Id = id;
            Connection = connection;
        }

        internal AosConnection Connection { get; }

        /// <summary>A small number that tells this process's sessions apart at the prompt.</summary>
        public int Id { get; }

        public Uri Server => Connection.Server;

        /// <summary>The proxy the session's requests go through; null for the system's default proxy.</summary>
        public Uri? Proxy => Connection.Proxy;

        /// <summary>The account, as name@host when a host is known.</summary>
        public string UserName => Connection.Account;

        public string? Domain => Connection.Domain;

        /// <summary>When the session logged in, in local time (about_AosMail: Times).</summary>
        public DateTime Created => Connection.Created.LocalDateTime;

        /// <summary>When a request last used the session, in local time.</summary>
        public DateTime LastUsed => Connection.LastUsed.LocalDateTime;

        public string DraftMailbox => Connection.DraftMailbox;

        public string OutboxMailbox => Connection.OutboxMailbox;

        public override string ToString() => $"{UserName} at {Server}";
    }
}
