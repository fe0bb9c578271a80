using System.Collections.Generic;
using System.Threading;

namespace AosMail.Internal
{
    /// <summary>
    /// The sessions of this PowerShell process. The newest one is the default for every cmdlet
    /// that is not given -Session. Static on purpose: runspaces of one process (ForEach-Object
    /// -Parallel, thread jobs) share sessions, as they share the module's assembly.
    /// </summary>
    internal static class AosSessionStore
    {
        private static readonly object Gate = new object();
        private static readonly List<AosSession> Sessions = new List<AosSession>();
        private static int _lastId;

        public static int NextId() => Interlocked.Increment(ref _lastId);

        /// <summary>Adds the session, which becomes the default; returns the default it replaces, or null.</summary>
        public static AosSession? Add(AosSession session)
        {
            lock (Gate)
            {
                AosSession? replaced = Sessions.Count == 0 ? null : Sessions[Sessions.Count - 1];
                Sessions.Add(session);
                return replaced;
            }
        }

        /// <summary>The newest session still held, or null.</summary>
        public static AosSession? Default
        {
            get
            {
                lock (Gate)
                {
                    return Sessions.Count == 0 ? null : Sessions[Sessions.Count - 1];
                }
            }
        }

        public static AosSession[] All()
        {
            lock (Gate)
            {
                return Sessions.ToArray();
            }
        }

        public static bool Remove(AosSession session)
        {
            lock (Gate)
            {
                return Sessions.Remove(session);
            }
        }
    }
}
