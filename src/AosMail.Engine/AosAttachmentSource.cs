using System;
using System.IO;
using System.Threading;
using static System.FormattableString;

namespace AosMail.Engine
{
    /// <summary>
    /// An attachment's file name and content: a file, read when the message is sent and never
    /// held; bytes given in memory; or a stream. The MIME type comes from the file name (MimeKit's table).
    /// A stream that can seek is read in place, from where it stood, on every pass (measuring,
    /// sending); one that cannot is first copied to a temporary file, which this source owns and
    /// deletes when disposed. Either way the content is never held in memory whole.
    /// </summary>
    public sealed class AosAttachmentSource : IDisposable
    {
        private readonly bool _ownsStream;

        private AosAttachmentSource(string fileName, string? path, byte[]? content, Stream? stream = null, long streamStart = 0, long streamLength = 0, bool ownsStream = false)
        {
            FileName = fileName;
            Path = path;
            Content = content;
            Stream = stream;
            StreamStart = streamStart;
            StreamLength = streamLength;
            _ownsStream = ownsStream;
        }

        /// <summary>A file by its absolute path; its name is the file's own unless one is given.</summary>
        public static AosAttachmentSource FromFile(string path, string? fileName = null) =>
            new AosAttachmentSource(fileName ?? System.IO.Path.GetFileName(path ?? ""), path ?? throw new ArgumentNullException(nameof(path)), null);

        public static AosAttachmentSource FromBytes(string fileName, byte[] content) =>
            new AosAttachmentSource(fileName ?? "", null, content ?? throw new ArgumentNullException(nameof(content)));

        /// <summary>
        /// A stream's content from its current position to its end. The caller keeps a seekable
        /// stream open until the message is sent (it is not disposed here). A stream that cannot
        /// seek is copied to a temporary file now, at most <see cref="AosProtocol.SpooledStreamMaxBytes"/>
        /// bytes (an endless stream ends there with AosInvalidAttachment).
        /// </summary>
        public static AosAttachmentSource FromStream(string fileName, Stream stream, CancellationToken cancellationToken = default) =>
            FromStream(fileName, stream, AosProtocol.SpooledStreamMaxBytes, cancellationToken);

        internal static AosAttachmentSource FromStream(string fileName, Stream stream, long spoolLimit, CancellationToken cancellationToken)
        {
            if (stream == null)
            {
                throw new ArgumentNullException(nameof(stream));
            }

            if (!stream.CanRead)
            {
                throw Unreadable(fileName, "it cannot be read (is it closed, or open for writing only?)");
            }

            if (stream.CanSeek)
            {
                long start;
                long length;
                try
                {
                    start = stream.Position;
                    length = Math.Max(0, stream.Length - start);
                    // One byte read now, so that a stream that cannot be read at all is bad input
                    // here, before the wire, rather than a failure halfway through a send.
                    stream.Read(new byte[1], 0, 1);
                    stream.Position = start;
                }
                catch (Exception e) when (!(e is OperationCanceledException))
                {
                    throw Unreadable(fileName ?? "", e.Message);
                }

                return new AosAttachmentSource(fileName ?? "", null, null, stream, start, length);
            }

            var spool = AosConnection.TemporaryFile();
            try
            {
                var buffer = new byte[81920];
                int read;
                while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (spool.Length + read > spoolLimit)
                    {
                        throw new AosException(AosErrorIds.InvalidAttachment, AosErrorCategory.InvalidArgument,
                            Invariant($"The content stream of attachment '{fileName}' goes on past {spoolLimit} bytes, the most a stream that cannot seek may hold ")
                            + "(it is copied to a temporary file first). Write the content to a file and attach the file. Nothing was sent.", fileName);
                    }

                    spool.Write(buffer, 0, read);
                }

                return new AosAttachmentSource(fileName ?? "", null, null, spool, 0, spool.Length, ownsStream: true);
            }
            catch (Exception e) when (!(e is AosException) && !(e is OperationCanceledException))
            {
                spool.Dispose();
                throw Unreadable(fileName, e.Message);
            }
            catch
            {
                spool.Dispose();
                throw;
            }
        }

        /// <summary>The name the recipient sees (Content-Disposition filename).</summary>
        public string FileName { get; }

        /// <summary>The file to read, or null for content given in memory or as a stream.</summary>
        public string? Path { get; }

        /// <summary>The content given in memory, or null for a file or a stream.</summary>
        public byte[]? Content { get; }

        /// <summary>The content's length in bytes when it is given in memory or as a stream; null for a file, whose length is read when it is sent.</summary>
        public long? ContentLength => Content != null ? Content.LongLength : Stream != null ? StreamLength : (long?)null;

        /// <summary>A seekable stream to read from <see cref="StreamStart"/> for <see cref="StreamLength"/> bytes, or null.</summary>
        internal Stream? Stream { get; }
        internal long StreamStart { get; }
        internal long StreamLength { get; }

        /// <summary>The content for one pass over a stream source, read as exactly the length it had when the message was prepared.</summary>
        internal Stream OpenStream(bool strict) =>
            new AosFixedLengthStream(Stream!, StreamLength, strict, FileName, StreamStart, leaveOpen: true);

        /// <summary>Deletes the temporary copy of a stream that could not seek; the caller's own streams are left alone.</summary>
        public void Dispose()
        {
            if (_ownsStream)
            {
                Stream?.Dispose();
            }
        }

        private static AosException Unreadable(string fileName, string why) =>
            new AosException(AosErrorIds.InvalidAttachment, AosErrorCategory.InvalidArgument,
                $"The content stream of attachment '{fileName}' could not be read: {why}", fileName);

        public override string ToString() =>
            Path ?? (string.IsNullOrWhiteSpace(FileName) ? $"{(Content?.LongLength ?? StreamLength)} bytes without a name" : FileName);
    }
}
