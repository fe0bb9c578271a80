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
    /// opens the attachment files afresh, lets MimeKit write the entity's content (base64 and all)
    /// straight into the given stream, and closes them again; nothing holds the encoded body, and
    /// between passes no file is open. The entity's boundary is fixed when it is built, so every
    /// pass writes the same bytes.
    /// </summary>
    internal sealed class AosMimeBody : IAosValueWriter
    {
        private readonly SemaphoreSlim _gate = new SemaphoreSlim(1, 1);
        private readonly IReadOnlyList<KeyValuePair<MimePart, string>> _attachments;

        public AosMimeBody(MimeEntity entity, IReadOnlyList<KeyValuePair<MimePart, string>> attachments)
        {
            Entity = entity ?? throw new ArgumentNullException(nameof(entity));
            _attachments = attachments ?? throw new ArgumentNullException(nameof(attachments));
        }

        /// <summary>The prepared entity (its attachment parts have no content between passes).</summary>
        public MimeEntity Entity { get; }

        public void WriteTo(Stream output, CancellationToken cancellationToken)
        {
            WithContent(entity =>
            {
                entity.WriteTo(AosFormBuilder.WireFormat, output, true, cancellationToken);
                return true;
            });
        }

        public async Task WriteToAsync(Stream output, CancellationToken cancellationToken)
        {
            // One pass at a time: the parts' content is set for the pass and cleared after it.
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var streams = Open();
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

        /// <summary>For tests and the buffered reference: the entity's content, with the files opened for it.</summary>
        internal T WithContent<T>(Func<MimeEntity, T> use)
        {
            _gate.Wait();
            try
            {
                var streams = Open();
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

        private List<Stream> Open()
        {
            var streams = new List<Stream>(_attachments.Count);
            try
            {
                foreach (var attachment in _attachments)
                {
                    // Sequential reads of a large file: a big buffer and the OS read-ahead hint.
                    var stream = new FileStream(attachment.Value, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
                    streams.Add(stream);
                    attachment.Key.Content = new MimeContent(stream);
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
            foreach (var attachment in _attachments)
            {
                attachment.Key.Content = null;
            }

            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }
    }
}
