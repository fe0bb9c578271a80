namespace AosMail.Sandbox;

/// <summary>The command line, parsed once at start. Everything here is a start value that
/// <c>POST /_sandbox/reset</c> restores.</summary>
public sealed record SandboxOptions
{
    public const string LocalDomain = "sandbox.test";
    public const string DemoUser = "demo@sandbox.test";
    // Deliberately full of characters that form encoding must escape (&, =, %, +), so a
    // client that forgets to encode fails its very first login.
    public const string DemoPassword = "S3cret&Pass=w0rd%+";
    public const long DefaultMaxRequestBytes = 512L * 1024 * 1024;

    public int Port { get; init; }
    public int HttpsPort { get; init; }
    public string DataPath { get; init; } = "";
    public int IdleMinutes { get; init; } = 45;
    /// <summary>A far-away server: each request takes this long in all, half before it is read, half before its answer.</summary>
    public int LatencyMs { get; init; }
    /// <summary>Uneven latency: this share of requests (0 to 100 %, spread evenly) takes <see cref="SlowMs"/> longer.</summary>
    public int SlowPercent { get; init; }
    public int SlowMs { get; init; }
    /// <summary>Uneven latency: each request takes a uniformly random 0 to this many ms longer.</summary>
    public int JitterMs { get; init; }
    /// <summary>Slow reading: request bodies are read at most this fast (0: as fast as they come).</summary>
    public long ReadBytesPerSecond { get; init; }
    public string? ReadyFile { get; init; }
    /// <summary>The demo account's Inbox starts with a few messages (<see cref="DemoMail"/>); --no-demo-mail starts it empty.</summary>
    public bool DemoMail { get; init; } = true;
    public IReadOnlyList<Account> ExtraUsers { get; init; } = [];

    public static IReadOnlyList<Account> BuiltInUsers { get; } =
    [
        new("demo", LocalDomain, DemoPassword, "Demo User"),
        new("alice", LocalDomain, "Alice-Passw0rd", "Alice Example"),
        new("bob", LocalDomain, "Bob-Passw0rd", "Bob Example"),
    ];

    public const string Usage =
        "Usage: dotnet AosMail.Sandbox.dll [--port N] [--https-port N] [--data DIR] [--idle-minutes N]\n" +
        "                                   [--latency-ms N] [--slow-percent N --slow-ms N] [--jitter-ms N]\n" +
        "                                   [--read-bytes-per-second N]\n" +
        "                                   [--ready-file PATH] [--user name@host:password]... [--no-demo-mail]";

    /// <summary>Parses the command line; throws <see cref="ArgumentException"/> with a
    /// message fit for the console on anything it does not understand.</summary>
    public static SandboxOptions Parse(string[] args)
    {
        var options = new SandboxOptions();
        var users = new List<Account>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Length) throw new ArgumentException($"{arg} needs a value.");
                return args[++i];
            }
            switch (arg.ToLowerInvariant())
            {
                case "--port": options = options with { Port = ParsePort(arg, Value()) }; break;
                case "--https-port": options = options with { HttpsPort = ParsePort(arg, Value()) }; break;
                case "--data": options = options with { DataPath = Path.GetFullPath(Value()) }; break;
                case "--ready-file": options = options with { ReadyFile = Path.GetFullPath(Value()) }; break;
                case "--idle-minutes":
                    var text = Value();
                    if (!int.TryParse(text, out var minutes) || minutes < 1)
                        throw new ArgumentException($"--idle-minutes wants a whole number of minutes (1 or more), not '{text}'.");
                    options = options with { IdleMinutes = minutes };
                    break;
                case "--latency-ms": options = options with { LatencyMs = (int)ParseCount(arg, Value(), int.MaxValue) }; break;
                case "--slow-percent": options = options with { SlowPercent = (int)ParseCount(arg, Value(), 100) }; break;
                case "--slow-ms": options = options with { SlowMs = (int)ParseCount(arg, Value(), int.MaxValue) }; break;
                case "--jitter-ms": options = options with { JitterMs = (int)ParseCount(arg, Value(), int.MaxValue) }; break;
                case "--read-bytes-per-second": options = options with { ReadBytesPerSecond = ParseCount(arg, Value(), long.MaxValue) }; break;
                case "--user": users.Add(ParseUser(Value())); break;
                case "--no-demo-mail": options = options with { DemoMail = false }; break;
                case "-h" or "--help" or "-?": throw new ArgumentException(Usage);
                default: throw new ArgumentException($"Unknown argument '{arg}'.\n{Usage}");
            }
        }
        if (options.DataPath.Length == 0)
        {
            options = options with { DataPath = Path.Combine(Path.GetTempPath(), "aos-sandbox-" + Guid.NewGuid().ToString("n")) };
        }
        return options with { ExtraUsers = users };
    }

    private static int ParsePort(string name, string text) =>
        int.TryParse(text, out var port) && port is >= 0 and <= 65535
            ? port
            : throw new ArgumentException($"{name} wants a port number from 0 to 65535, not '{text}'.");

    private static long ParseCount(string name, string text, long max) =>
        long.TryParse(text, out var value) && value >= 0 && value <= max
            ? value
            : throw new ArgumentException($"{name} wants a whole number (0 or more), not '{text}'.");

    private static Account ParseUser(string text)
    {
        // name@host:password -- the password may itself hold ':' or '@', the address may not hold ':'.
        var colon = text.IndexOf(':');
        var address = colon < 0 ? text : text[..colon];
        var at = address.LastIndexOf('@');
        if (colon < 1 || at < 1 || at == address.Length - 1)
            throw new ArgumentException($"--user wants name@host:password, not '{text}'.");
        return new Account(address[..at], address[(at + 1)..], text[(colon + 1)..], address[..at]);
    }
}

/// <summary>A mailbox owner. Name and host compare case-insensitively, the password exactly.</summary>
public sealed record Account(string Name, string Host, string Password, string FullName)
{
    public string Address => $"{Name}@{Host}".ToLowerInvariant();
}
