using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using System.Numerics;
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

        /// <summary>Bytes read a time by the counting pass; with its slack, the largest array the shared pool keeps.</summary>
        internal const int CountChunkBytes = 1024 * 1024 - 256;

        /// <summary>Bit 0 of each of the eight 6-bit groups in 48 bits.</summary>
        private const ulong GroupLowBits = 0x041041041041UL;

        /// <summary>Writes <paramref name="source"/>, read to its end, as base64 text into <paramref name="target"/>.</summary>
        public static void Encode(Stream source, Stream target, CancellationToken cancellationToken)
        {
            var raw = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            var text = ArrayPool<byte>.Shared.Rent(ChunkTextBytes);
            try
            {
                int read;
                while ((read = ReadChunk(source, raw, cancellationToken)) > 0)
                {
                    target.Write(text, 0, Layout(raw, read, text));
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
            var raw = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            var text = ArrayPool<byte>.Shared.Rent(ChunkTextBytes);
            try
            {
                int read;
                while ((read = await ReadChunkAsync(source, raw, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await target.WriteAsync(text, 0, Layout(raw, read, text), cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(raw);
                ArrayPool<byte>.Shared.Return(text);
            }
        }

        /// <summary>
        /// The length of <paramref name="source"/>'s base64 text (read to its end) once form-encoded:
        /// one pass that counts, and writes nothing.
        /// </summary>
        public static long FormEncodedLength(Stream source, CancellationToken cancellationToken) =>
            FormEncodedLength(source, Vector.IsHardwareAccelerated, cancellationToken);

        /// <param name="vectors">Count with <see cref="Vector{T}"/> (where the runtime makes it fast); else eight groups a word. Tests run both.</param>
        internal static long FormEncodedLength(Stream source, bool vectors, CancellationToken cancellationToken)
        {
            // Room past the data for the counters' reads beyond their last block (see there).
            var buffer = ArrayPool<byte>.Shared.Rent(CountChunkBytes + 256);
            try
            {
                long length = 0;
                long wide = 0;
                int carried = 0;
                int read;
                int vectorBlock = 3 * Vector<byte>.Count;
                while ((read = source.Read(buffer, carried, CountChunkBytes)) > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    length += read;
                    int available = carried + read;
                    int counted = 0;
                    if (vectors)
                    {
                        int blocks = available / vectorBlock;
                        wide += CountWideVectors(buffer, blocks);
                        counted = blocks * vectorBlock;
                    }

                    int words = (available - counted) / 6;
                    wide += CountWide(buffer, counted, words);
                    counted += words * 6;
                    carried = available - counted;
                    Buffer.BlockCopy(buffer, counted, buffer, 0, carried);
                }

                if (carried > 0)
                {
                    // The last group is padded with zero bits, as the encoder pads it.
                    Array.Clear(buffer, carried, 8 - carried);
                    wide += CountWide(buffer, 0, 1);
                }

                return FormEncodedLength(length, wide);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
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

        /// <summary>Encodes <paramref name="count"/> bytes (whole lines but at the end) into <paramref name="text"/>; returns the bytes of text.</summary>
        [MethodImpl(Hot)]
        private static int Layout(byte[] raw, int count, byte[] text)
        {
            // One call over the chunk (the encoder's vector loop then runs long), then the lines are
            // spread out from the back, so each moves only to a later place in the same buffer.
            Base64Text.EncodeToUtf8(new ReadOnlySpan<byte>(raw, 0, count), text, out _, out int encoded);
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

        /// <summary>Fills <paramref name="raw"/> up to a chunk unless the source ends first, so only the last chunk has a short line.</summary>
        private static int ReadChunk(Stream source, byte[] raw, CancellationToken cancellationToken)
        {
            int filled = 0;
            int read;
            while (filled < ChunkBytes && (read = source.Read(raw, filled, ChunkBytes - filled)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                filled += read;
            }

            return filled;
        }

        private static async Task<int> ReadChunkAsync(Stream source, byte[] raw, CancellationToken cancellationToken)
        {
            int filled = 0;
            int read;
            while (filled < ChunkBytes && (read = await source.ReadAsync(raw, filled, ChunkBytes - filled, cancellationToken).ConfigureAwait(false)) > 0)
            {
                filled += read;
            }

            return filled;
        }
    }
}
