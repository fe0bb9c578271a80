namespace AosMail.Sandbox;

/// <summary>Everything the sandbox holds, shared by the AOS and control endpoints.</summary>
public sealed class SandboxState
{
    public SandboxState(SandboxOptions options, TimeProvider clock)
    {
        Options = options;
        Clock = clock;
        Users = new UserStore(options);
        Sessions = new SessionStore(clock, StartIdle);
        Mail = new MailStore(options.DataPath, clock);
        if (options.DemoMail) DemoMail.Seed(Mail, clock);
        LatencyMs = options.LatencyMs;
        SetUnevenLatency(options.SlowPercent, options.SlowMs, options.JitterMs);
        ReadBytesPerSecond = options.ReadBytesPerSecond;
    }

    public SandboxOptions Options { get; }
    public TimeProvider Clock { get; }
    public UserStore Users { get; }
    public SessionStore Sessions { get; }
    public MailStore Mail { get; }
    public RequestRecorder Recorder { get; } = new();
    public FaultPlan Faults { get; } = new();

    /// <summary>The judge's verdicts since start; <see cref="Reset"/> keeps them (see <see cref="CheckLog"/>).</summary>
    public CheckLog Checks { get; } = new();

    /// <summary>Oldest servers answer openbox with six fields a line; tests switch this on.</summary>
    public volatile bool LegacyOpenbox;

    /// <summary>A server that keeps an Outbox copy of every send, keepcopy or not; tests switch this on.</summary>
    public volatile bool AlwaysKeepCopy;

    private long _maxRequestBytes = SandboxOptions.DefaultMaxRequestBytes;
    private int _latencyMs;
    private long _readBytesPerSecond;

    /// <summary>Each request takes this long in all (a far-away server): half before it is read, half before its answer.</summary>
    public int LatencyMs
    {
        get => Volatile.Read(ref _latencyMs);
        set => Volatile.Write(ref _latencyMs, value);
    }

    private UnevenLatency _uneven = new(0, 0, 0);
    private long _requests;

    /// <summary>Uneven latency on top of <see cref="LatencyMs"/>: a share of slow requests, and uniform jitter.</summary>
    public sealed record UnevenLatency(int SlowPercent, int SlowMs, int JitterMs);

    public UnevenLatency Uneven => Volatile.Read(ref _uneven);

    public void SetUnevenLatency(int slowPercent, int slowMs, int jitterMs)
    {
        Volatile.Write(ref _uneven, new UnevenLatency(slowPercent, slowMs, jitterMs));
        Interlocked.Exchange(ref _requests, 0);
    }

    /// <summary>
    /// How long the next request takes in all: the latency, plus the slow share's extra for exactly
    /// SlowPercent of requests, spread evenly (the n-th request is slow when n x SlowPercent / 100
    /// reaches a new whole number, so 5 % is every 20th), plus a uniform 0 to JitterMs.
    /// </summary>
    public int NextLatencyMs()
    {
        var uneven = Uneven;
        long n = Interlocked.Increment(ref _requests);
        bool slow = n * uneven.SlowPercent / 100 > (n - 1) * uneven.SlowPercent / 100;
        return LatencyMs + (slow ? uneven.SlowMs : 0) + (uneven.JitterMs > 0 ? Random.Shared.Next(uneven.JitterMs + 1) : 0);
    }

    /// <summary>Slow reading: request bodies are read at most this fast; 0 is as fast as they come.</summary>
    public long ReadBytesPerSecond
    {
        get => Interlocked.Read(ref _readBytesPerSecond);
        set => Interlocked.Exchange(ref _readBytesPerSecond, value);
    }

    /// <summary>The largest request body accepted. Lowered by tests to prove an over-limit body
    /// is refused cleanly without sending half a gigabyte.</summary>
    public long MaxRequestBytes
    {
        get => Interlocked.Read(ref _maxRequestBytes);
        set => Interlocked.Exchange(ref _maxRequestBytes, value);
    }

    public string BaseUri { get; set; } = "";
    public string HttpsBaseUri { get; set; } = "";

    /// <summary>The viewer's page (ViewerEndpoints) on the http port.</summary>
    public string ViewerUri => BaseUri + ViewerEndpoints.UiPath + "/";

    private TimeSpan StartIdle => TimeSpan.FromMinutes(Options.IdleMinutes);

    /// <summary>Back to the state right after start: no requests, faults, sessions, mail (but the
    /// demo Inbox, <see cref="DemoMail"/>) or control-added users; start options. The judge's
    /// verdicts (<see cref="Checks"/>) stay. <paramref name="demoMail"/> overrides --no-demo-mail for this reset.</summary>
    public void Reset(bool? demoMail = null)
    {
        Recorder.Clear();
        Faults.Clear();
        Sessions.Clear();
        Sessions.Idle = StartIdle;
        LegacyOpenbox = false;
        AlwaysKeepCopy = false;
        MaxRequestBytes = SandboxOptions.DefaultMaxRequestBytes;
        LatencyMs = Options.LatencyMs;
        SetUnevenLatency(Options.SlowPercent, Options.SlowMs, Options.JitterMs);
        ReadBytesPerSecond = Options.ReadBytesPerSecond;
        Users.Reset();
        Mail.Clear();
        if (demoMail ?? Options.DemoMail) DemoMail.Seed(Mail, Clock);
    }
}
