using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace AosMail.Sandbox;

public enum SessionState { Alive, Expired, Unknown }

/// <summary>Login sessions. An expired session is remembered as expired (until a reset) so
/// the answer can tell "session expired" from "unknown session", which is what a client needs
/// to decide whether logging in again is worth it (docs/aos-protocol.md B14).</summary>
public sealed class SessionStore
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private sealed class Session(Account user, long now)
    {
        public Account User { get; } = user;
        public long LastUse = now;   // TimeProvider ticks; Interlocked because requests race
        public volatile bool Expired;
    }

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;
    private long _idleTicks;

    public SessionStore(TimeProvider clock, TimeSpan idle)
    {
        _clock = clock;
        Idle = idle;
    }

    public TimeSpan Idle
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _idleTicks));
        set => Interlocked.Exchange(ref _idleTicks, value.Ticks);
    }

    public string Create(Account user)
    {
        while (true)
        {
            // SID + 17 characters: 20 in all, inside the 19 to 21 the AOS documents show.
            var sid = "SID" + RandomNumberGenerator.GetString(Alphabet, 17);
            if (_sessions.TryAdd(sid, new Session(user, _clock.GetTimestamp()))) return sid;
        }
    }

    /// <summary>Looks a session up and, when it is alive, counts this request as a use.</summary>
    public SessionState Touch(string? sid, out Account? user)
    {
        user = null;
        if (string.IsNullOrEmpty(sid) || !_sessions.TryGetValue(sid, out var session)) return SessionState.Unknown;
        if (session.Expired) return SessionState.Expired;
        var now = _clock.GetTimestamp();
        if (_clock.GetElapsedTime(Interlocked.Read(ref session.LastUse), now) > Idle)
        {
            session.Expired = true;
            return SessionState.Expired;
        }
        Interlocked.Exchange(ref session.LastUse, now);
        user = session.User;
        return SessionState.Alive;
    }

    /// <summary>Whose session this is, alive or expired, without counting a use (for the request log).</summary>
    public Account? Owner(string? sid) =>
        !string.IsNullOrEmpty(sid) && _sessions.TryGetValue(sid, out var session) ? session.User : null;

    /// <summary>The <c>expire</c> fault: the session dies now, as if it had idled out.</summary>
    public void Expire(string? sid)
    {
        if (!string.IsNullOrEmpty(sid) && _sessions.TryGetValue(sid, out var session)) session.Expired = true;
    }

    public void Clear() => _sessions.Clear();
}
