using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;

namespace AosMail.Engine
{
    /// <summary>
    /// An attachment part's content for one pass of <see cref="AosMimeBody"/>: MimeKit writes the
    /// part's headers and boundaries, and this writes the base64 (<see cref="AosBase64"/>, the
    /// bytes MimeKit's own encoder would write).
    /// </summary>
    /// <remarks>
    /// MimeKit hands the content a fresh filtering stream (CRLF line endings) over the stream the
    /// entity is written into. Given that stream (<c>output</c>), the base64, already in CRLF lines,
    /// goes to it directly: the filter, which has seen nothing, then writes nothing either, and a
    /// pass over every encoded byte is saved. Into a measuring form encoder, the encoded length is
    /// counted instead of written. Without <c>output</c> (tests), it goes through MimeKit's filter.
    /// </remarks>
    internal sealed class AosBase64Content : IMimeContent
    {
        private readonly Stream _source;
        private readonly Stream? _output;
        private readonly Func<Stream>? _reopen;

        /// <param name="source">The content, read from its start; not disposed with this.</param>
        /// <param name="output">The stream the entity is written into, when known.</param>
        /// <param name="reopen">Opens a second reader of the same content (a file), for counting it in halves (each reader is disposed once read).</param>
        public AosBase64Content(Stream source, Stream? output, Func<Stream>? reopen = null)
        {
            _reopen = reopen;
            _source = source ?? throw new ArgumentNullException(nameof(source));
            _output = output;
        }

        public ContentEncoding Encoding => ContentEncoding.Base64;

        public NewLineFormat? NewLineFormat => MimeKit.NewLineFormat.Dos;

        /// <summary>None: the encoded content is only ever written, never held.</summary>
        public Stream? Stream => null;

        public Stream Open() => throw new NotSupportedException("An attachment's content is only written into a request.");

        public void DecodeTo(Stream stream, CancellationToken cancellationToken = default)
        {
            _source.Seek(0, SeekOrigin.Begin);
            _source.CopyTo(stream);
        }

        public Task DecodeToAsync(Stream stream, CancellationToken cancellationToken = default)
        {
            _source.Seek(0, SeekOrigin.Begin);
            return _source.CopyToAsync(stream, 81920, cancellationToken);
        }

        public void WriteTo(Stream stream, CancellationToken cancellationToken = default)
        {
            _source.Seek(0, SeekOrigin.Begin);
            if (_output is AosFormEncodingStream form && form.Discards)
            {
                form.Count(AosBase64.FormEncodedLength(_source, _reopen, cancellationToken));
            }
            else
            {
                AosBase64.Encode(_source, _output ?? stream, cancellationToken);
            }
        }

        public Task WriteToAsync(Stream stream, CancellationToken cancellationToken = default)
        {
            _source.Seek(0, SeekOrigin.Begin);
            return AosBase64.EncodeAsync(_source, _output ?? stream, cancellationToken);
        }

        /// <summary>The source belongs to the pass that opened it (<see cref="AosMimeBody"/> closes it).</summary>
        public void Dispose()
        {
        }
    }
}
