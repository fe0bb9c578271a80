using System.Text;

namespace AosMail.Sandbox;

/// <summary>A field value too large to keep as a string: decoded to UTF-8 in a temporary file.</summary>
public sealed class SpooledValue(string path, long charLength, long byteLength)
{
    public string Path { get; } = path;

    /// <summary>The length of the decoded value in UTF-16 characters (what a string would have).</summary>
    public long CharLength { get; } = charLength;

    public long ByteLength { get; } = byteLength;
}

/// <summary>
/// Reads an application/x-www-form-urlencoded body the way ASP.NET Core's FormReader does
/// (UTF-8 text; a key runs to '=', a value to '&amp;' or the end; '+' is a space; each run of
/// %XX escapes is unescaped by Uri.UnescapeDataString), but without holding large values: a
/// value the caller chooses to spool is decoded in pieces and, once it outgrows
/// <see cref="InMemoryLimit"/> characters, written to a temporary file. Its field entry then
/// holds only the value's head (enough for the request recording), and <see cref="Spooled"/>
/// maps the entry's index to the file.
/// </summary>
public sealed class StreamingFormReader(string spoolFolder, Func<string, bool> spool)
{
    public const int KeyLengthLimit = 2048;

    /// <summary>Values up to this many characters stay strings, as before.</summary>
    public const int InMemoryLimit = 1024 * 1024;

    /// <summary>How much of a spooled value's head is kept (the recording shows 65536 after masking).</summary>
    public const int HeadChars = RequestRecorder.MaxValueChars + 256;

    private const int ChunkChars = 64 * 1024;

    public List<KeyValuePair<string, string>> Fields { get; } = [];

    public Dictionary<int, SpooledValue> Spooled { get; } = [];

    public async Task ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 16 * 1024, leaveOpen: true);
        var buffer = new char[16 * 1024];
        var key = new StringBuilder();
        string? currentKey = null;
        ValueSink? value = null;
        try
        {
            while (true)
            {
                var count = await reader.ReadAsync(buffer.AsMemory(), cancellationToken);
                if (count == 0) break;
                var offset = 0;
                while (offset < count)
                {
                    var span = buffer.AsSpan(offset, count - offset);
                    if (currentKey is null)
                    {
                        var end = span.IndexOf('=');
                        var take = end < 0 ? span.Length : end;
                        if (key.Length + take > KeyLengthLimit)
                            throw new InvalidDataException($"Form key or value length limit {KeyLengthLimit} exceeded.");
                        key.Append(span[..take]);
                        offset += take;
                        if (end >= 0)
                        {
                            offset++;
                            currentKey = Unescape(key);
                            key.Clear();
                            value = new ValueSink(spool(currentKey) ? spoolFolder : null);
                        }
                    }
                    else
                    {
                        var end = span.IndexOf('&');
                        var take = end < 0 ? span.Length : end;
                        await value!.AppendAsync(span[..take].ToString(), cancellationToken);
                        offset += take;
                        if (end >= 0)
                        {
                            offset++;
                            await AddAsync(currentKey, value, cancellationToken);
                            currentKey = null;
                            value = null;
                        }
                    }
                }
            }

            // At the end: a value in progress is complete (even empty); a key without '=' is dropped.
            if (currentKey is not null)
            {
                await AddAsync(currentKey, value!, cancellationToken);
                value = null;
            }
        }
        finally
        {
            value?.Abandon();
        }
    }

    private async Task AddAsync(string name, ValueSink value, CancellationToken cancellationToken)
    {
        var (text, spooled) = await value.FinishAsync(cancellationToken);
        if (spooled is not null) Spooled[Fields.Count] = spooled;
        Fields.Add(new(name, text));
    }

    /// <summary>Deletes the temporary files.</summary>
    public void Cleanup()
    {
        foreach (var spooled in Spooled.Values) TryDelete(spooled.Path);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string Unescape(StringBuilder builder) => Uri.UnescapeDataString(builder.Replace('+', ' ').ToString());

    /// <summary>Collects one value: a string while small; decoded pieces in a file after that.</summary>
    private sealed class ValueSink(string? spoolFolder)
    {
        private readonly StringBuilder _pending = new();
        private readonly StringBuilder _head = new();
        private FileStream? _file;
        private string? _path;
        private long _chars;
        private long _bytes;
        private readonly Encoder _encoder = new UTF8Encoding(false).GetEncoder();
        private byte[] _bytesBuffer = [];

        public async Task AppendAsync(string raw, CancellationToken cancellationToken)
        {
            _pending.Append(raw);
            if (spoolFolder is null || _pending.Length < ChunkChars) return;
            if (_file is null && _pending.Length < InMemoryLimit) return;
            var cut = SafeCut();
            if (cut > 0) await WriteAsync(cut, cancellationToken);
        }

        public async Task<(string Text, SpooledValue? Spooled)> FinishAsync(CancellationToken cancellationToken)
        {
            if (_file is null) return (Unescape(_pending), null);
            await WriteAsync(_pending.Length, cancellationToken, flush: true);
            await _file.DisposeAsync();
            _file = null;
            return (_head.ToString(), new SpooledValue(_path!, _chars, _bytes));
        }

        public void Abandon()
        {
            _file?.Dispose();
            _file = null;
            if (_path is not null) TryDelete(_path);
        }

        /// <summary>
        /// The longest prefix that ends outside any %XX escape, outside a run of escapes (they
        /// unescape together: a UTF-8 sequence) and after a whole surrogate pair; 0 if none.
        /// </summary>
        private int SafeCut()
        {
            for (var p = _pending.Length - 1; p > 2; p--)
            {
                if (_pending[p] != '%' && _pending[p - 1] != '%' && _pending[p - 2] != '%' && !char.IsHighSurrogate(_pending[p - 1]))
                    return p;
            }
            return 0;
        }

        private async Task WriteAsync(int length, CancellationToken cancellationToken, bool flush = false)
        {
            if (_file is null)
            {
                Directory.CreateDirectory(spoolFolder!);
                _path = Path.Combine(spoolFolder!, $".value.{Guid.NewGuid():n}.tmp");
                _file = new FileStream(_path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
            }

            var raw = new StringBuilder(length).Append(_pending, 0, length);
            _pending.Remove(0, length);
            var text = Unescape(raw);
            if (_head.Length < HeadChars) _head.Append(text, 0, Math.Min(text.Length, HeadChars - _head.Length));
            _chars += text.Length;
            var needed = _encoder.GetByteCount(text.AsSpan(), flush);
            if (_bytesBuffer.Length < needed) _bytesBuffer = new byte[Math.Max(needed, 256 * 1024)];
            var written = _encoder.GetBytes(text.AsSpan(), _bytesBuffer, flush);
            _bytes += written;
            await _file.WriteAsync(_bytesBuffer.AsMemory(0, written), cancellationToken);
        }
    }
}
