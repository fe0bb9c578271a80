using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;

namespace AosMail.Engine
{
    /// <summary>
    /// A form value that is written, never held: the writer emits its bytes (UTF-8) on demand,
    /// once for the measuring pass and once per attempt to send.
    /// </summary>
    internal interface IAosValueWriter
    {
        void WriteTo(Stream output, CancellationToken cancellationToken);

        Task WriteToAsync(Stream output, CancellationToken cancellationToken);
    }

    /// <summary>
    /// docs/aos-protocol.md B9: the body of a MIME message, kept as the MimeKit entity rather than as text. Each pass
    /// gives the attachment parts their content (files opened afresh, each read as the length it
    /// had when the message was prepared, see <see cref="AosFixedLengthStream"/>; bytes given in
    /// memory as they are), lets MimeKit write the entity (headers, boundaries, text parts) straight
    /// into the given stream with each attachment's base64 written by <see cref="AosBase64Content"/>,
    /// and takes the content away again; nothing holds the encoded body, and
    /// between passes no file is open. The entity's boundaries are fixed when it is built, so every
    /// pass writes the same bytes.
    /// </summary>
    internal sealed class AosMimeBody : IAosValueWriter
    {
        private readonly SemaphoreSlim _gate = new SemaphoreSlim(1, 1);
        private readonly IReadOnlyList<Part> _parts;

        public AosMimeBody(MimeEntity entity, IReadOnlyList<Part> parts)
        {
            Entity = entity ?? throw new ArgumentNullException(nameof(entity));
            _parts = parts ?? throw new ArgumentNullException(nameof(parts));
        }

        /// <summary>The prepared entity (its attachment parts have no content between passes).</summary>
        public MimeEntity Entity { get; }

        /// <summary>
        /// The measuring pass (and tests): a file that changed is read as far as its prepared
        /// length. Into a measuring form encoder, an attachment's encoded length is counted from
        /// its content (<see cref="AosBase64.FormEncodedLength"/>) instead of being encoded.
        /// </summary>
        public void WriteTo(Stream output, CancellationToken cancellationToken)
        {
            WithContent(output, entity =>
            {
                entity.WriteTo(AosFormBuilder.WireFormat, output, true, cancellationToken);
                return true;
            });
        }

        /// <summary>The sending pass: a file whose length changed throws <see cref="AosContentChangedException"/>.</summary>
        public async Task WriteToAsync(Stream output, CancellationToken cancellationToken)
        {
            // One pass at a time: the parts' content is set for the pass and cleared after it.
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var streams = Open(strict: true, output);
                try
                {
                    await Entity.WriteToAsync(AosFormBuilder.WireFormat, output, true, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    Close(streams);
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>For tests: the entity's content, with the files opened for it, for MimeKit to write anywhere.</summary>
        internal T WithContent<T>(Func<MimeEntity, T> use) => WithContent(null, use);

        private T WithContent<T>(Stream? output, Func<MimeEntity, T> use)
        {
            _gate.Wait();
            try
            {
                var streams = Open(strict: false, output);
                try
                {
                    return use(Entity);
                }
                finally
                {
                    Close(streams);
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        private List<Stream> Open(bool strict, Stream? output)
        {
            var streams = new List<Stream>(_parts.Count);
            try
            {
                foreach (var part in _parts)
                {
                    Stream stream;
                    Func<Stream>? reopen = null;
                    if (part.Text != null)
                    {
                        stream = part.Text.Open(strict);
                    }
                    else if (part.Source!.Content != null)
                    {
                        stream = new MemoryStream(part.Source.Content, writable: false);
                    }
                    else if (part.Source.Stream != null)
                    {
                        stream = part.Source.OpenStream(strict);
                    }
                    else
                    {
                        var source = part.Source;
                        long length = part.Length;
                        // The counting pass may open the file a second time (AosBase64.FormEncodedLength).
                        reopen = () => AosFixedLengthStream.OpenFile(source.Path!, length, strict, source.FileName);
                        stream = reopen();
                    }

                    streams.Add(stream);
                    part.Mime.Content = new AosBase64Content(stream, output, reopen);
                }
            }
            catch
            {
                Close(streams);
                throw;
            }

            return streams;
        }

        private void Close(List<Stream> streams)
        {
            foreach (var part in _parts)
            {
                part.Mime.Content = null;
            }

            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }

        /// <summary>An attachment or inline part, where its content comes from, and its length when the message was prepared.</summary>
        internal sealed class Part
        {
            public Part(MimePart mime, AosAttachmentSource source, long length)
            {
                Mime = mime;
                Source = source;
                Length = length;
            }

            /// <summary>A text part whose content is a -BodyPath file's text.</summary>
            public Part(MimePart mime, AosBodyFile text)
            {
                Mime = mime;
                Text = text;
                Length = text.Utf8Length;
            }

            public MimePart Mime { get; }

            /// <summary>Where an attachment's content comes from; null for a text part (<see cref="Text"/>).</summary>
            public AosAttachmentSource? Source { get; }

            public AosBodyFile? Text { get; }
            public long Length { get; }
        }
    }
}
