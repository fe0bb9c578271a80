using System.Collections.Concurrent;

namespace AosMail.Sandbox;

/// <summary>The accounts: built-in ones, those from <c>--user</c>, and those added through the
/// control API (which a reset forgets).</summary>
public sealed class UserStore
{
    private readonly IReadOnlyList<Account> _startUsers;
    private readonly ConcurrentDictionary<string, Account> _users = new(StringComparer.OrdinalIgnoreCase);

    public UserStore(SandboxOptions options)
    {
        _startUsers = [.. SandboxOptions.BuiltInUsers, .. options.ExtraUsers];
        Reset();
    }

    public void Reset()
    {
        _users.Clear();
        foreach (var user in _startUsers) _users[user.Address] = user;
    }

    public void Add(Account account) => _users[account.Address] = account;

    /// <summary>Every account, ordered by address.</summary>
    public IReadOnlyList<Account> All => [.. _users.Values.OrderBy(u => u.Address, StringComparer.Ordinal)];

    public Account? Find(string address) => _users.TryGetValue(address, out var user) ? user : null;

    /// <summary>Checks a login. Says nothing about which part was wrong, like a real server.</summary>
    public Account? Authenticate(string name, string host, string password)
    {
        var user = Find($"{name}@{host}");
        return user is not null && string.Equals(user.Password, password, StringComparison.Ordinal) ? user : null;
    }
}
