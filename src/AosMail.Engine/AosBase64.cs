using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using System.Numerics;
using System.Text;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Base64Text = System.Buffers.Text.Base64;

namespace AosMail.Engine
{
    /// <summary>
    /// An attachment's base64 (docs/aos-protocol.md B9) in MimeKit's exact layout: 76 characters a
    /// line (57 bytes of content), every line ended by CRLF, the last one too, and nothing at all
    /// for empty content; and the length that text takes once form-encoded, counted from the
    /// content without encoding it.
    /// </summary>
    /// <remarks>
    /// Written with <see cref="Base64Text"/>: on .NET that is CoreLib's vectorised and precompiled
    /// encoder (MimeKit's netstandard build, which .NET Framework needs too, encodes a byte at a
    /// time, unoptimised until the JIT tiers it up: a first send in a new process paid for that).
    /// The form-encoded length needs only the count of '+' and '/' (the 6-bit groups 62 and 63):
    /// everything else in the text is a letter, a digit, '=' padding or a line break, fixed by the
    /// content's length.
    /// </remarks>
    internal static class AosBase64
    {
        /// <summary>Content bytes on one line (19 groups of 3), as MimeKit's encoder lays them out.</summary>
        public const int LineBytes = 57;

        /// <summary>Characters on one line, not counting its CRLF.</summary>
        public const int LineChars = 76;

        // MethodImplOptions.AggressiveOptimization (netstandard2.0 has no name for it): the hot
        // loops run fully optimised from the first call instead of at JIT tier 0; runtimes that
        // do not know the flag (Mono, .NET Framework) ignore it.
        private const MethodImplOptions Hot = (MethodImplOptions)512;

        /// <summary>
        /// Lines encoded per chunk: about 230 KB of content in, 320 KB of text out. Larger than a
        /// FileStream's buffer, so a file is read straight into the chunk, not copied through it.
        /// </summary>
        private const int ChunkLines = 4096;
        internal const int ChunkBytes = ChunkLines * LineBytes;

        /// <summary>
        /// Bytes read a time by the counting pass; with its slack, the largest array the shared pool
        /// keeps. 256 x 4095: a multiple of 3 x 64, so a whole chunk is whole groups and whole vector
        /// blocks for any vector size up to 64 bytes.
        /// </summary>
        internal const int CountChunkBytes = 1024 * 1024 - 256;

        /// <summary>Bit 0 of each of the eight 6-bit groups in 48 bits.</summary>
        private const ulong GroupLowBits = 0x041041041041UL;

        /// <summary>
        /// Writes <paramref name="source"/>, read to its end, as base64 text into <paramref name="target"/>;
        /// into a form encoder, form-encoded here (<see cref="FormLines"/>).
        /// </summary>
        public static void Encode(Stream source, Stream target, CancellationToken cancellationToken)
        {
            var form = FormTarget(target);
            var raw = ArrayPool<byte>.Shared.Rent(ChunkBytes + 1);
            var text = ArrayPool<byte>.Shared.Rent(form != null ? FormChunkBytes : ChunkTextBytes);
            try
            {
                int read;
                while ((read = Fill(source, raw, ChunkBytes, cancellationToken)) > 0)
                {
                    if (form == null)
                    {
                        target.Write(text, 0, Layout(raw, 0, read, text));
                        continue;
                    }

                    int lines = read / LineBytes;
                    if (lines > 0) form.WriteEncoded(text, FormLines(raw, lines, text));
                    if (read > lines * LineBytes)
                    {
                        form.Write(text, 0, Layout(raw, lines * LineBytes, read - lines * LineBytes, text));
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(raw);
                ArrayPool<byte>.Shared.Return(text);
            }
        }

        /// <inheritdoc cref="Encode"/>
        public static async Task EncodeAsync(Stream source, Stream target, CancellationToken cancellationToken)
        {
            var form = FormTarget(target);
            var raw = ArrayPool<byte>.Shared.Rent(ChunkBytes + 1);
            var text = ArrayPool<byte>.Shared.Rent(form != null ? FormChunkBytes : ChunkTextBytes);
            try
            {
                int read;
                // Read synchronously: a file opened for reading without FileOptions.Asynchronous (as
                // attachments are) does its ReadAsync as a read on another pool thread, and a switch
                // of threads per chunk cost more than the read (70,000-110,000 context switches in
                // a 1 GiB send instead of 13,000-21,000).
                while ((read = Fill(source, raw, ChunkBytes, cancellationToken)) > 0)
                {
                    if (form == null)
                    {
                        await target.WriteAsync(text, 0, Layout(raw, 0, read, text), cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    int lines = read / LineBytes;
                    if (lines > 0) await form.WriteEncodedAsync(text, FormLines(raw, lines, text), cancellationToken).ConfigureAwait(false);
                    if (read > lines * LineBytes)
                    {
                        await form.WriteAsync(text, 0, Layout(raw, lines * LineBytes, read - lines * LineBytes, text), cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(raw);
                ArrayPool<byte>.Shared.Return(text);
            }
        }

        /// <summary>The form encoder the text goes into, when it does (FormPairs are laid out for a little-endian machine, as every .NET target is).</summary>
        private static AosFormEncodingStream? FormTarget(Stream target) =>
            target is AosFormEncodingStream form && BitConverter.IsLittleEndian ? form : null;

        /// <summary>
        /// The length of <paramref name="source"/>'s base64 text (read to its end) once form-encoded:
        /// one pass that counts, and writes nothing. Content that <paramref name="reopen"/> can open a
        /// second time, from its start (a file), is counted as two halves at once when it has
        /// <see cref="SplitBytes"/> or more, the second through its own reader on a thread of its own:
        /// each half reads and counts chunk by chunk on its own thread, with no hand-off between
        /// them, so that on two cores the count takes less than one read of the file. This pass
        /// comes before the request's first byte.
        /// </summary>
        public static long FormEncodedLength(Stream source, Func<Stream>? reopen, CancellationToken cancellationToken) =>
            FormEncodedLength(source, reopen, Vector.IsHardwareAccelerated, SplitBytes, cancellationToken);

        /// <summary>Content this long or longer is counted in two halves when it can be opened twice (below, a second thread gains nothing worth its start).</summary>
        internal const long SplitBytes = 8L * CountChunkBytes;

        /// <param name="splitBytes">The shortest content counted in halves (tests give less).</param>
        internal static long FormEncodedLength(Stream source, Func<Stream>? reopen, bool vectors, long splitBytes, CancellationToken cancellationToken)
        {
            if (reopen == null || !source.CanSeek || source.Length - source.Position < splitBytes) return FormEncodedLength(source, vectors, cancellationToken);

            long start = source.Position;
            long length = source.Length - start;

            // Whole chunks in the first half: whole 3-byte groups, so the halves' counts add up.
            long half = length / 2 / CountChunkBytes * CountChunkBytes;
            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                // A thread of its own, not the pool's: with many sends in flight the pool's threads
                // may all be busy (counting, among others), and a queued half would wait for the pool to grow.
                var second = Task.Factory.StartNew(() =>
                {
                    using (var reader = reopen())
                    {
                        reader.Seek(start + half, SeekOrigin.Begin);
                        return CountRange(reader, long.MaxValue, vectors, stop.Token);
                    }
                }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                try
                {
                    var first = CountRange(source, half, vectors, cancellationToken);
                    var rest = second.GetAwaiter().GetResult();
                    // A first half cut short is where the file now ends (the second read nothing),
                    // unless the file changed between the two; the sending pass, which reads
                    // strictly, stops on a length that changed either way.
                    return FormEncodedLength(first.Length + rest.Length, first.Wide + rest.Wide);
                }
                finally
                {
                    // The second half reads no further once this call has ended, however it ends.
                    stop.Cancel();
                    try
                    {
                        second.Wait();
                    }
                    catch (AggregateException)
                    {
                    }
                }
            }
        }

        /// <summary>Reads up to <paramref name="limit"/> bytes (a multiple of <see cref="CountChunkBytes"/>, or past the end) and counts their wide groups, chunk by chunk.</summary>
        private static (long Length, long Wide) CountRange(Stream source, long limit, bool vectors, CancellationToken cancellationToken)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(CountChunkBytes + 256);
            try
            {
                long length = 0;
                long wide = 0;
                while (length < limit)
                {
                    int read = Fill(source, buffer, CountChunkBytes, cancellationToken);
                    length += read;
                    wide += CountChunk(buffer, read, vectors);
                    if (read < CountChunkBytes) break;
                }

                return (length, wide);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <param name="vectors">Count with <see cref="Vector{T}"/> (where the runtime makes it fast); else eight groups a word. Tests run both.</param>
        /// <remarks>
        /// Two buffers: while one chunk is counted on the thread pool the next is read, so counting
        /// keeps pace with reading and the first byte of a large attachment goes out sooner. Every
        /// chunk but the last is whole (a multiple of 3 bytes, so of whole groups): counted alone.
        /// </remarks>
        internal static long FormEncodedLength(Stream source, bool vectors, CancellationToken cancellationToken)
        {
            // Room past the data for the counters' reads beyond their last block (see there).
            var buffers = new[] { ArrayPool<byte>.Shared.Rent(CountChunkBytes + 256), ArrayPool<byte>.Shared.Rent(CountChunkBytes + 256) };
            Task<long>? counting = null;
            try
            {
                long length = 0;
                long wide = 0;
                for (int next = 0; ; next ^= 1)
                {
                    var buffer = buffers[next];
                    int read = Fill(source, buffer, CountChunkBytes, cancellationToken);
                    length += read;
                    if (counting != null)
                    {
                        wide += counting.GetAwaiter().GetResult();
                        counting = null;
                    }

                    if (read < CountChunkBytes)
                    {
                        wide += CountChunk(buffer, read, vectors);
                        return FormEncodedLength(length, wide);
                    }

                    counting = Task.Run(() => CountChunk(buffer, CountChunkBytes, vectors));
                }
            }
            finally
            {
                // A read that failed leaves a count running over a buffer: it must end before the buffer goes back.
                if (counting != null)
                {
                    try
                    {
                        counting.Wait();
                    }
                    catch (AggregateException)
                    {
                    }
                }

                ArrayPool<byte>.Shared.Return(buffers[0]);
                ArrayPool<byte>.Shared.Return(buffers[1]);
            }
        }

        /// <summary>The 6-bit groups 62 and 63 in <paramref name="count"/> bytes from the buffer's start, a partial group at the end padded with zero bits, as the encoder pads it.</summary>
        private static long CountChunk(byte[] buffer, int count, bool vectors)
        {
            long wide = 0;
            int counted = 0;
            if (vectors)
            {
                int blocks = count / (3 * Vector<byte>.Count);
                wide += CountWideVectors(buffer, blocks);
                counted = blocks * 3 * Vector<byte>.Count;
            }

            int words = (count - counted) / 6;
            wide += CountWide(buffer, counted, words);
            counted += words * 6;
            int rest = count - counted;
            if (rest > 0)
            {
                Array.Clear(buffer, counted + rest, 8 - rest);
                wide += CountWide(buffer, counted, 1);
            }

            return wide;
        }

        /// <summary>Reads until <paramref name="buffer"/> holds <paramref name="count"/> bytes or the source ends.</summary>
        private static int Fill(Stream source, byte[] buffer, int count, CancellationToken cancellationToken)
        {
            int filled = 0;
            int read;
            while (filled < count && (read = source.Read(buffer, filled, count - filled)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                filled += read;
            }

            return filled;
        }

        /// <summary>
        /// The form-encoded length of the base64 text of <paramref name="contentLength"/> bytes of
        /// which <paramref name="wide"/> 6-bit groups are 62 or 63 ('+' and '/').
        /// </summary>
        internal static long FormEncodedLength(long contentLength, long wide)
        {
            long groups = (contentLength + 2) / 3;
            long padding = groups * 3 - contentLength;
            long lines = (groups + LineChars / 4 - 1) / (LineChars / 4);
            long letters = groups * 4 - padding - wide;
            return letters * AosFormEncodingStream.EncodedWidth((byte)'A')
                + wide * AosFormEncodingStream.EncodedWidth((byte)'+')
                + padding * AosFormEncodingStream.EncodedWidth((byte)'=')
                + lines * (AosFormEncodingStream.EncodedWidth((byte)'\r') + AosFormEncodingStream.EncodedWidth((byte)'\n'));
        }

        /// <summary>
        /// How many of the 6-bit groups of <paramref name="blocks"/> 6-byte blocks from
        /// <paramref name="offset"/> are 62 or 63, that is have their top five bits set. Each
        /// block is read as 8 bytes, of which the last 2 are ignored: the buffer must have 2
        /// readable bytes past the last block.
        /// </summary>
        [MethodImpl(Hot)]
        private static unsafe long CountWide(byte[] buffer, int offset, int blocks)
        {
            long total = 0;
            fixed (byte* start = buffer)
            {
                byte* block = start + offset;
                while (blocks > 0)
                {
                    // Eight 6-bit counters in one word; 63 blocks at most before they could overflow.
                    int run = Math.Min(blocks, 63);
                    blocks -= run;
                    ulong counters = 0;
                    for (int i = 0; i < run; i++, block += 6)
                    {
                        ulong bits = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(block)) >> 16;
                        // Bit j is set where bits j to j+4 all are: a group's top five bits are j = 6k+1.
                        ulong runs = bits & (bits >> 1) & (bits >> 2) & (bits >> 3) & (bits >> 4);
                        counters += (runs >> 1) & GroupLowBits;
                    }

                    for (int k = 0; k < 8; k++)
                    {
                        total += (long)((counters >> (6 * k)) & 63);
                    }
                }
            }

            return total;
        }

        /// <summary>
        /// The same count over <paramref name="blocks"/> blocks of 3 vectors from the buffer's
        /// start, a byte a lane. Where a byte sits in its 3-byte group says which of its bits (and
        /// of the next byte's) make a group 62 or 63: the first byte 111110xx alone, or xxxxxx11
        /// with the next byte 111xxxxx; the second xxxx1111 with the next 1xxxxxxx; the third
        /// xx11111x. A vector's length is no multiple of 3, so each of the 3 vectors in a block has
        /// its own lanes for each place. The last lane's "next byte" may lie past the blocks: it
        /// is a third byte, for which no next byte counts, but it must be readable.
        /// </summary>
        [MethodImpl(Hot)]
        private static long CountWideVectors(byte[] buffer, int blocks)
        {
            int size = Vector<byte>.Count;
            var top5 = new Vector<byte>(0xF8);
            var low2 = new Vector<byte>(0x03);
            var top3 = new Vector<byte>(0xE0);
            var low4 = new Vector<byte>(0x0F);
            var top1 = new Vector<byte>(0x80);
            var middle5 = new Vector<byte>(0x3E);
            var places = Places;
            long total = 0;
            int offset = 0;
            while (blocks > 0)
            {
                // A lane gains at most 4 a block (its three places, the first counting twice): 63 blocks fit in a byte.
                int run = Math.Min(blocks, 63);
                blocks -= run;
                var counters = Vector<byte>.Zero;
                for (int i = 0; i < run; i++)
                {
                    for (int k = 0; k < 3; k++, offset += size)
                    {
                        var b = new Vector<byte>(buffer, offset);
                        var next = new Vector<byte>(buffer, offset + 1);
                        var first = Vector.Equals(b & top5, top5)
                            + (Vector.Equals(b & low2, low2) & Vector.Equals(next & top3, top3));
                        var second = Vector.Equals(b & low4, low4) & Vector.Equals(next & top1, top1);
                        var third = Vector.Equals(b & middle5, middle5);
                        // Each true test is 0xFF, -1 in a byte: subtracting counts it.
                        counters -= (first & places[3 * k]) + (second & places[3 * k + 1]) + (third & places[3 * k + 2]);
                    }
                }

                for (int lane = 0; lane < size; lane++)
                {
                    total += counters[lane];
                }
            }

            return total;
        }

        /// <summary>For vector k of a block, index 3k + p: 0xFF in the lanes whose byte is at place p of its group.</summary>
        private static readonly Vector<byte>[] Places = CreatePlaces();

        private static Vector<byte>[] CreatePlaces()
        {
            int size = Vector<byte>.Count;
            var places = new Vector<byte>[9];
            var lanes = new byte[size];
            for (int k = 0; k < 3; k++)
            {
                for (int place = 0; place < 3; place++)
                {
                    for (int lane = 0; lane < size; lane++)
                    {
                        lanes[lane] = (k * size + lane) % 3 == place ? (byte)0xFF : (byte)0;
                    }

                    places[3 * k + place] = new Vector<byte>(lanes);
                }
            }

            return places;
        }

        private const int ChunkTextBytes = ChunkLines * (LineChars + 2);

        /// <summary>The most a line takes form-encoded (every character '+' or '/', then "%0D%0A"), as <see cref="FormLines"/> writes it.</summary>
        private const int MaxFormLineBytes = LineChars * 3 + 6;

        /// <summary>A chunk's whole lines form-encoded at their longest, and the 8 bytes the last store may write past them.</summary>
        private const int FormChunkBytes = ChunkLines * MaxFormLineBytes + 8;

        private static readonly byte[] Alphabet = Encoding.ASCII.GetBytes("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

        /// <summary>
        /// For each 12 bits of content, the form encoding of its two base64 characters as the form
        /// encoder writes them (<see cref="AosFormEncodingStream.EncodedBytes"/>): their bytes in
        /// memory order, and in the top byte how many there are (2 to 6).
        /// </summary>
        private static readonly ulong[] FormPairs = CreateFormPairs();

        /// <summary>"%0D%0A", the form encoding of a line's CRLF.</summary>
        private static readonly ulong FormLineBreak =
            AosFormEncodingStream.EncodedBytes((byte)'\r') | ((ulong)AosFormEncodingStream.EncodedBytes((byte)'\n') << (8 * AosFormEncodingStream.EncodedWidth((byte)'\r')));

        private static readonly int FormLineBreakBytes = AosFormEncodingStream.EncodedWidth((byte)'\r') + AosFormEncodingStream.EncodedWidth((byte)'\n');

        private static ulong[] CreateFormPairs()
        {
            var pairs = new ulong[64 * 64];
            for (int bits = 0; bits < pairs.Length; bits++)
            {
                byte first = Alphabet[bits >> 6];
                byte second = Alphabet[bits & 63];
                int width = AosFormEncodingStream.EncodedWidth(first);
                pairs[bits] = AosFormEncodingStream.EncodedBytes(first)
                    | ((ulong)AosFormEncodingStream.EncodedBytes(second) << (8 * width))
                    | ((ulong)(width + AosFormEncodingStream.EncodedWidth(second)) << 56);
            }

            return pairs;
        }

        /// <summary>
        /// Writes <paramref name="lines"/> whole lines of <paramref name="raw"/> into <paramref name="output"/>
        /// as their base64 text form-encoded (the bytes <see cref="Layout"/> then the form encoder would
        /// write), 12 bits of content a table entry; returns the bytes written. The characters of an
        /// attachment's text are most of what a large send encodes: one table step per two of them,
        /// with no base64 text in between, costs a third of encoding the text a byte at a time.
        /// </summary>
        /// <remarks>
        /// Each group is read as 4 bytes (one past it: <paramref name="raw"/> must have a byte more) and
        /// each entry stored as 8 (the store may run 8 bytes past the end: <see cref="FormChunkBytes"/>).
        /// </remarks>
        [MethodImpl(Hot)]
        private static unsafe int FormLines(byte[] raw, int lines, byte[] output)
        {
            int used = 0;
            ulong lineBreak = FormLineBreak;
            int lineBreakBytes = FormLineBreakBytes;
            fixed (byte* input = raw)
            fixed (byte* target = output)
            fixed (ulong* pairs = FormPairs)
            {
                byte* group = input;
                for (int line = 0; line < lines; line++)
                {
                    for (int i = 0; i < LineBytes / 3; i++, group += 3)
                    {
                        uint bits = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(group)) >> 8;
                        ulong first = pairs[bits >> 12];
                        *(ulong*)(target + used) = first;
                        used += (int)(first >> 56);
                        ulong second = pairs[bits & 0xFFF];
                        *(ulong*)(target + used) = second;
                        used += (int)(second >> 56);
                    }

                    *(ulong*)(target + used) = lineBreak;
                    used += lineBreakBytes;
                }
            }

            return used;
        }

        /// <summary>Encodes <paramref name="count"/> bytes from <paramref name="offset"/> (whole lines but at the end) into <paramref name="text"/>; returns the bytes of text.</summary>
        [MethodImpl(Hot)]
        private static int Layout(byte[] raw, int offset, int count, byte[] text)
        {
            // One call over the chunk (the encoder's vector loop then runs long), then the lines are
            // spread out from the back, so each moves only to a later place in the same buffer.
            Base64Text.EncodeToUtf8(new ReadOnlySpan<byte>(raw, offset, count), text, out _, out int encoded);
            int lines = (encoded + LineChars - 1) / LineChars;
            int last = encoded - (lines - 1) * LineChars;
            var span = new Span<byte>(text);
            int to = (lines - 1) * (LineChars + 2);
            span.Slice((lines - 1) * LineChars, last).CopyTo(span.Slice(to));
            span[to + last] = (byte)'\r';
            span[to + last + 1] = (byte)'\n';
            for (int line = lines - 2; line >= 0; line--)
            {
                to = line * (LineChars + 2);
                span.Slice(line * LineChars, LineChars).CopyTo(span.Slice(to));
                span[to + LineChars] = (byte)'\r';
                span[to + LineChars + 1] = (byte)'\n';
            }

            return (lines - 1) * (LineChars + 2) + last + 2;
        }
    }
}
