using System;

namespace AosMail.Engine
{
    /// <summary>
    /// Every failure the engine reports. The message names the offending value but never a
    /// password or session id; <see cref="Target"/> is the offending input itself.
    /// </summary>
    public class AosException : Exception
    {
        public AosException(string errorId, AosErrorCategory category, string message, object? target = null, Exception? innerException = null)
            : base(message, innerException)
        {
            ErrorId = errorId;
            Category = category;
            Target = target;
        }

        /// <summary>One of <see cref="AosErrorIds"/>.</summary>
        public string ErrorId { get; }

        public AosErrorCategory Category { get; }

        /// <summary>The value that caused the failure (an address, a header name, a path...), or null.</summary>
        public object? Target { get; }
    }
}
