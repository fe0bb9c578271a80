using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AosMail.Sandbox;

/// <summary>One stored message file.</summary>
public sealed record StoredMessage(string Id, string Path, long Size, DateTimeOffset Modified, bool Read);

/// <summary>Where messages are kept: a user's mailbox, or (no user) the outgoing spool.</summary>
public sealed record MailFolder(string? User, string Mailbox)
{
    public static MailFolder Spool { get; } = new(null, "Spool");

    public bool IsSpool => User is null;
}

/// <summary>The sender and recipients of one spooled message, as an SMTP relay would see them
/// (Bcc included: it is in the envelope, never in the headers).</summary>
public sealed record Envelope(string From, IReadOnlyList<string> Recipients, DateTimeOffset Submitted);

/// <summary>
/// Mail on disk: <c>mail/&lt;user@host&gt;/&lt;Mailbox&gt;/&lt;id&gt;.eml</c> with an empty
/// <c>&lt;id&gt;.seen</c> beside a message once it is read, and <c>spool/&lt;id&gt;.eml</c> plus
/// <c>&lt;id&gt;.json</c> for what was sent. Plain files so tests and people can look at them.
/// </summary>
public sealed partial class MailStore
{
    public static readonly IReadOnlyList<string> Mailboxes = ["Inbox", "Draft", "Outbox"];

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    public static partial Regex IdPattern();

    private static readonly JsonSerializerOptions EnvelopeJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly string _mailRoot;
    private readonly string _spoolRoot;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, object> _userLocks = new(StringComparer.OrdinalIgnoreCase);
    private long _lastId;
    private long _version;

    public MailStore(string dataPath, TimeProvider clock)
    {
        _mailRoot = Path.Combine(dataPath, "mail");
        _spoolRoot = Path.Combine(dataPath, "spool");
        IncomingPath = Path.Combine(dataPath, "incoming");
        _clock = clock;
    }

    public string SpoolPath => _spoolRoot;

    /// <summary>Changes whenever a message is stored, removed or read, so the viewer polls this
    /// number rather than the folders.</summary>
    public long Version => Interlocked.Read(ref _version);

    private void Changed() => Interlocked.Increment(ref _version);

    /// <summary>Where large request values and the messages built from them wait while a request runs.</summary>
    public string IncomingPath { get; }

    public static string? CanonicalMailbox(string? name) =>
        string.IsNullOrEmpty(name) ? null : Mailboxes.FirstOrDefault(m => m.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// A new message id, <c>&lt;unix-ms&gt;.&lt;nnn&gt;</c>: unique in this process and, because the
    /// millisecond part is 13 digits until the year 2286, sortable by arrival as plain text.
    /// </summary>
    public string NewId()
    {
        while (true)
        {
            var last = Interlocked.Read(ref _lastId);
            var next = Math.Max(_clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000, last + 1);
            if (Interlocked.CompareExchange(ref _lastId, next, last) == last)
                return $"{next / 1000}.{next % 1000:D3}";
        }
    }

    /// <summary>Guards check-then-act on one user's mailboxes (overwrite or send a draft by mid).
    /// New messages need no lock: their ids are unique and every write is atomic.</summary>
    public object LockFor(string user) => _userLocks.GetOrAdd(user, _ => new object());

    private string MailboxDir(string user, string mailbox) => Path.Combine(_mailRoot, user.ToLowerInvariant(), mailbox);

    private string FolderDir(MailFolder folder) => folder.User is { } user ? MailboxDir(user, folder.Mailbox) : _spoolRoot;

    private string MessagePath(string user, string mailbox, string id) => Path.Combine(MailboxDir(user, mailbox), id + ".eml");

    public void Store(string user, string mailbox, string id, MessageContent content)
    {
        var path = MessagePath(user, mailbox, id);
        content.WriteAtomically(path);
        // An overwritten draft is a new message to its reader.
        File.Delete(Path.ChangeExtension(path, ".seen"));
        Changed();
    }

    public bool Exists(string user, string mailbox, string id) => File.Exists(MessagePath(user, mailbox, id));

    public void Delete(string user, string mailbox, string id)
    {
        var path = MessagePath(user, mailbox, id);
        File.Delete(Path.ChangeExtension(path, ".seen"));
        File.Delete(path);
        Changed();
    }

    /// <summary>The messages of one mailbox, oldest first.</summary>
    public IReadOnlyList<StoredMessage> List(string user, string mailbox) => List(new MailFolder(user, mailbox));

    /// <summary>The messages of a mailbox or of the spool, oldest first.</summary>
    public IReadOnlyList<StoredMessage> List(MailFolder folder)
    {
        var dir = FolderDir(folder);
        if (!Directory.Exists(dir)) return [];
        var list = new List<StoredMessage>();
        foreach (var file in new DirectoryInfo(dir).EnumerateFiles("*.eml"))
        {
            var id = Path.GetFileNameWithoutExtension(file.Name);
            if (!IdPattern().IsMatch(id)) continue;
            list.Add(Stored(id, file));
        }
        list.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return list;
    }

    /// <summary>One message of a mailbox or of the spool; null when there is none by that id.</summary>
    public StoredMessage? Find(MailFolder folder, string id)
    {
        if (!IdPattern().IsMatch(id)) return null;
        var file = new FileInfo(Path.Combine(FolderDir(folder), id + ".eml"));
        return file.Exists ? Stored(id, file) : null;
    }

    private static StoredMessage Stored(string id, FileInfo file) =>
        new(id, file.FullName, file.Length, file.LastWriteTimeUtc, File.Exists(Path.ChangeExtension(file.FullName, ".seen")));

    /// <summary>The envelope of a spooled message, or null.</summary>
    public Envelope? ReadEnvelope(string id)
    {
        try { return JsonSerializer.Deserialize<Envelope>(File.ReadAllBytes(Path.Combine(_spoolRoot, id + ".json")), EnvelopeJson); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }

    /// <summary>The message file, open for reading (a draft overwritten meanwhile is renamed over it: this reader keeps the old one).</summary>
    public FileStream? OpenRead(string user, string mailbox, string id)
    {
        try
        {
            return new FileStream(MessagePath(user, mailbox, id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }

    public void MarkRead(string user, string mailbox, string id)
    {
        AtomicFile.Write(Path.ChangeExtension(MessagePath(user, mailbox, id), ".seen"), []);
        Changed();
    }

    public void Spool(string id, MessageContent content, Envelope envelope)
    {
        // Envelope first: whoever sees the .eml can count on its .json being there.
        AtomicFile.Write(Path.Combine(_spoolRoot, id + ".json"), JsonSerializer.SerializeToUtf8Bytes(envelope, EnvelopeJson));
        content.WriteAtomically(Path.Combine(_spoolRoot, id + ".eml"));
        Changed();
    }

    public void Clear()
    {
        foreach (var dir in new[] { _mailRoot, _spoolRoot })
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        Changed();
    }
}

/// <summary>A message to store: bytes in memory, or (for a large one) a temporary file that is
/// copied to each place it goes and deleted on Dispose.</summary>
public sealed class MessageContent : IDisposable
{
    private readonly byte[]? _bytes;
    private readonly string? _path;

    private MessageContent(byte[]? bytes, string? path)
    {
        _bytes = bytes;
        _path = path;
    }

    public static MessageContent FromBytes(byte[] bytes) => new(bytes, null);

    /// <summary>The header block, then the body file's bytes, into a new temporary file.</summary>
    public static MessageContent FromFile(string folder, byte[] head, string bodyPath)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $".message.{Guid.NewGuid():n}.tmp");
        try
        {
            using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024);
            output.Write(head);
            using var body = new FileStream(bodyPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
            body.CopyTo(output, 256 * 1024);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
        return new(null, path);
    }

    /// <summary>The content, from its start (the judge reads it before it is stored).</summary>
    public Stream OpenRead() => _bytes is not null
        ? new MemoryStream(_bytes, writable: false)
        : new FileStream(_path!, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);

    public void WriteAtomically(string path)
    {
        if (_bytes is not null) AtomicFile.Write(path, _bytes);
        else AtomicFile.CopyFrom(path, _path!);
    }

    public void Dispose()
    {
        if (_path is not null)
        {
            try { File.Delete(_path); } catch (IOException) { }
        }
    }
}

internal static class AtomicFile
{
    /// <summary>As <see cref="Write"/>, with the content copied from a file.</summary>
    public static void CopyFrom(string path, string source)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():n}.tmp");
        try
        {
            File.Copy(source, temp);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes to a temporary file in the same folder, then renames it over the target,
    /// so a reader sees the old file or the whole new one, never a part.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():n}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                // No fsync: atomic against readers is what matters here, not crash durability.
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
