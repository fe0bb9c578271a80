using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using MimeKit.IO.Filters;
using static System.FormattableString;

namespace AosMail.Engine
{
    /// <summary>
    /// A -BodyPath file as the body's text, never held whole: decoded with its encoding (a byte
    /// order mark wins), line ends made CRLF and written as UTF-8, block by block, each time the
    /// text is needed. One pass when the message is prepared learns what the B8/B9 choice needs
    /// (empty? ASCII? a long line or a control character? the transfer encoding MimeKit would
    /// pick) and the checks want (the cid: references of an HTML body); it also keeps the UTF-8
    /// length and SHA-256, so the sending pass can tell that the file changed since and cut the
    /// request before its body is complete (docs/aos-protocol.md B22). The bytes are exactly those
    /// of the same text given as -Body.
    /// </summary>
    internal sealed class AosBodyFile : IAosValueWriter
    {
        private const int CharBlock = 16 * 1024;
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        private readonly Encoding? _encoding;
        private readonly long _fileLength;
        private byte[] _sha256 = Array.Empty<byte>();

        private AosBodyFile(string path, Encoding? encoding, long fileLength)
        {
            Path = path;
            _encoding = encoding;
            _fileLength = fileLength;
        }

        public string Path { get; }

        /// <summary>The text's length in UTF-8 bytes (CRLF line ends), as prepared.</summary>
        public long Utf8Length { get; private set; }

        public bool IsEmpty => Utf8Length == 0;

        public bool IsAscii { get; private set; }

        /// <summary>B8: a line over 78 octets or a control character (<see cref="AosWireText.PlainBodyNeedsTransferEncoding"/>).</summary>
        public bool NeedsTransferEncoding { get; private set; }

        /// <summary>What MimeKit's Prepare(SevenBit) would choose for the text as a MIME part: its own <see cref="BestEncodingFilter"/> over the same bytes.</summary>
        public ContentEncoding BestEncoding { get; private set; }

        /// <summary>
        /// Reads the file once (see the class). <paramref name="contentIds"/>, when given, is fed
        /// the text (an HTML body's cid: references). A file that cannot be read is an error now,
        /// before anything is sent.
        /// </summary>
        public static AosBodyFile Read(string path, Encoding? encoding, AosContentIdScan? contentIds)
        {
            var file = new AosBodyFile(path, encoding, new FileInfo(path).Length);
            try
            {
                file.Scan(contentIds);
            }
            catch (Exception e) when (AosFixedLengthStream.IsReadFailure(e) || e is AosContentReadException)
            {
                throw new AosException(AosErrorIds.BodyFileNotFound, AosErrorCategory.ReadError,
                    $"The body file '{path}' could not be read: {(e is AosContentReadException ? e.InnerException!.Message : e.Message)}", path);
            }

            return file;
        }

        private void Scan(AosContentIdScan? contentIds)
        {
            var plain = new AosWireText.PlainBodyScan();
            var best = new BestEncodingFilter();
            using (var text = OpenText(strict: false))
            using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var chars = new char[2 * CharBlock];
                var bytes = new byte[Utf8.GetMaxByteCount(chars.Length)];
                var encoder = Utf8.GetEncoder();
                long length = 0;
                int read;
                do
                {
                    read = text.Read(chars);
                    plain.Add(chars, 0, read);
                    contentIds?.Add(chars, 0, read);
                    int count = encoder.GetBytes(chars, 0, read, bytes, 0, flush: read == 0);
                    best.Filter(bytes, 0, count, out _, out _);
                    sha.AppendData(bytes, 0, count);
                    length += count;
                }
                while (read > 0);

                best.Flush(bytes, 0, 0, out _, out _);
                contentIds?.End();
                Utf8Length = length;
                _sha256 = sha.GetHashAndReset();
            }

            IsAscii = plain.IsAscii;
            NeedsTransferEncoding = plain.NeedsTransferEncoding;
            BestEncoding = best.GetBestEncoding(EncodingConstraint.SevenBit);
        }

        /// <summary>
        /// The text as UTF-8 bytes. Strict (the sending pass): a file that changed since it was
        /// prepared (length, or the bytes it gives) throws <see cref="AosContentChangedException"/>
        /// before the last byte is given; lenient (measuring): at most the prepared length.
        /// </summary>
        public Stream Open(bool strict) => new Utf8TextStream(this, strict);

        public void WriteTo(Stream output, CancellationToken cancellationToken)
        {
            using (var text = Open(strict: false))
            {
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = text.Read(buffer, 0, buffer.Length)) > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    output.Write(buffer, 0, read);
                }
            }
        }

        public async Task WriteToAsync(Stream output, CancellationToken cancellationToken)
        {
            using (var text = Open(strict: true))
            {
                await text.CopyToAsync(output, 64 * 1024, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Draft discovery's body comparison (<see cref="AosConnection.MatchesPosted"/>) without
        /// holding the text: whether the text, trailing line ends, spaces and tabs removed, is
        /// <paramref name="trimmed"/> (which has them removed already).
        /// </summary>
        public bool TextMatches(string trimmed)
        {
            using (var text = OpenText(strict: false))
            {
                var chars = new char[2 * CharBlock];
                long at = 0;
                int read;
                while ((read = text.Read(chars)) > 0)
                {
                    for (int i = 0; i < read; i++, at++)
                    {
                        char c = chars[i];
                        bool same = at < trimmed.Length ? c == trimmed[(int)at] : c == '\r' || c == '\n' || c == ' ' || c == '\t';
                        if (!same)
                        {
                            return false;
                        }
                    }
                }

                return at >= trimmed.Length;
            }
        }

        private TextBlocks OpenText(bool strict)
        {
            var content = AosFixedLengthStream.OpenFile(Path, _fileLength, strict, Path, AosFixedLengthStream.BodyFileKind);
            return new TextBlocks(new StreamReader(content, _encoding ?? Utf8, detectEncodingFromByteOrderMarks: true, bufferSize: CharBlock));
        }

        private AosContentChangedException Changed() => new AosContentChangedException(
            Invariant($"The body file '{Path}' changed while it was being sent (its text had {Utf8Length} bytes as UTF-8 when the message was prepared)"));

        /// <summary>The decoded text in blocks, line ends made CRLF (<see cref="AosFormBuilder.NormalizeNewLines"/>).</summary>
        private sealed class TextBlocks : IDisposable
        {
            private readonly StreamReader _reader;
            private readonly char[] _raw = new char[CharBlock];
            private bool _afterCr;

            public TextBlocks(StreamReader reader) => _reader = reader;

            /// <summary>Fills <paramref name="output"/> (at least twice the block) with the next text; 0 at the end.</summary>
            public int Read(char[] output)
            {
                while (true)
                {
                    int read = _reader.Read(_raw, 0, _raw.Length);
                    if (read == 0)
                    {
                        return 0;
                    }

                    int written = 0;
                    for (int i = 0; i < read; i++)
                    {
                        char c = _raw[i];
                        bool lfAfterCr = _afterCr && c == '\n';
                        _afterCr = c == '\r';
                        if (lfAfterCr)
                        {
                            continue;
                        }

                        if (c == '\r' || c == '\n')
                        {
                            output[written++] = '\r';
                            output[written++] = '\n';
                        }
                        else
                        {
                            output[written++] = c;
                        }
                    }

                    // A block that was only the LF of a CRLF split across blocks gives nothing: read on.
                    if (written > 0)
                    {
                        return written;
                    }
                }
            }

            public void Dispose() => _reader.Dispose();
        }

        /// <summary>The text as UTF-8, block by block; see <see cref="Open"/>.</summary>
        private sealed class Utf8TextStream : Stream
        {
            private readonly AosBodyFile _file;
            private readonly bool _strict;
            private readonly Encoder _encoder = Utf8.GetEncoder();
            private readonly IncrementalHash? _sha;
            private TextBlocks? _text;
            private readonly char[] _chars = new char[2 * CharBlock];
            private readonly byte[] _bytes;
            private int _start;
            private int _end;
            private long _given;
            private bool _done;

            public Utf8TextStream(AosBodyFile file, bool strict)
            {
                _file = file;
                _strict = strict;
                _bytes = new byte[Utf8.GetMaxByteCount(_chars.Length)];
                _sha = strict ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
            }

            public override bool CanRead => true;

            /// <summary>MimeKit rewinds its content before and after writing it: a rewind starts the text again (the file is opened at the next read).</summary>
            public override bool CanSeek => true;
            public override bool CanWrite => false;
            public override long Length => _file.Utf8Length;

            public override long Position
            {
                get => _given;
                set => Seek(value, SeekOrigin.Begin);
            }

            public override int Read(byte[] buffer, int offset, int count)
            {
                while (_start == _end)
                {
                    if (_done || (!_strict && _given >= _file.Utf8Length))
                    {
                        return 0;
                    }

                    Fill();
                }

                int n = Math.Min(count, _end - _start);
                if (!_strict)
                {
                    n = (int)Math.Min(n, _file.Utf8Length - _given);
                }

                Buffer.BlockCopy(_bytes, _start, buffer, offset, n);
                _start += n;
                _given += n;
                return n;
            }

            private void Fill()
            {
                _text = _text ?? _file.OpenText(_strict);
                int read = _text.Read(_chars);
                _done = read == 0;
                _start = 0;
                _end = _encoder.GetBytes(_chars, 0, read, _bytes, 0, flush: _done);
                if (_sha == null)
                {
                    return;
                }

                // Strict: the bytes are checked before they are given, so a changed file never completes the body.
                _sha.AppendData(_bytes, 0, _end);
                if (_given + _end > _file.Utf8Length
                    || (_done && (_given + _end != _file.Utf8Length || !Same(_sha.GetHashAndReset(), _file._sha256))))
                {
                    throw _file.Changed();
                }
            }

            private static bool Same(byte[] a, byte[] b)
            {
                if (a.Length != b.Length)
                {
                    return false;
                }

                for (int i = 0; i < a.Length; i++)
                {
                    if (a[i] != b[i])
                    {
                        return false;
                    }
                }

                return true;
            }

            public override long Seek(long offset, SeekOrigin origin)
            {
                long target = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? _given + offset : _file.Utf8Length + offset;
                if (target == _given)
                {
                    return _given;
                }

                if (target != 0)
                {
                    throw new NotSupportedException("The body text is read from its start.");
                }

                _text?.Dispose();
                _text = null;
                _encoder.Reset();
                _sha?.GetHashAndReset();
                _start = _end = 0;
                _given = 0;
                _done = false;
                return 0;
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    _text?.Dispose();
                    _sha?.Dispose();
                }

                base.Dispose(disposing);
            }

            public override void Flush()
            {
            }

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
