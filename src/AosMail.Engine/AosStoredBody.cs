using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;

namespace AosMail.Engine
{
    /// <summary>
    /// Whether a streamed body, written as it would be sent, is the body a server stored: compared as it is
    /// written, so nothing holds the posted body, and stopped at the first byte that differs. Carriage returns
    /// are ignored (a server may store LF line ends) and so is whitespace at the end, as for a plain body.
    /// </summary>
    internal sealed class AosStoredBody : Stream
    {
        private readonly byte[] _stored;
        private readonly List<byte> _pending = new List<byte>();
        private int _position;

        private AosStoredBody(string stored) => _stored = Encoding.UTF8.GetBytes(stored);

        /// <summary>True when <paramref name="writer"/> writes exactly <paramref name="stored"/> (see the class).</summary>
        public static bool Holds(string stored, IAosValueWriter writer)
        {
            var comparer = new AosStoredBody(stored ?? "");
            try
            {
                writer.WriteTo(comparer, CancellationToken.None);
            }
            catch (DifferentException)
            {
                return false;
            }

            return comparer.EndsHere();
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            for (int i = offset; i < offset + count; i++)
            {
                byte b = buffer[i];
                if (b == (byte)'\r') continue;
                if (IsWhitespace(b))
                {
                    // Compared only once something follows it: trailing whitespace does not count.
                    _pending.Add(b);
                    continue;
                }

                foreach (byte whitespace in _pending) Expect(whitespace);
                _pending.Clear();
                Expect(b);
            }
        }

        private void Expect(byte b)
        {
            while (_position < _stored.Length && _stored[_position] == (byte)'\r') _position++;
            if (_position >= _stored.Length || _stored[_position] != b) throw new DifferentException();
            _position++;
        }

        /// <summary>After the last write: what is left of the stored body is whitespace only.</summary>
        private bool EndsHere()
        {
            for (int i = _position; i < _stored.Length; i++)
            {
                if (_stored[i] != (byte)'\r' && !IsWhitespace(_stored[i])) return false;
            }

            return true;
        }

        private static bool IsWhitespace(byte b) => b == (byte)'\n' || b == (byte)' ' || b == (byte)'\t';

        private sealed class DifferentException : Exception
        {
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
