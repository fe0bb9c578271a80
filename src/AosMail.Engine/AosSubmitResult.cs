using System;

namespace AosMail.Engine
{
    /// <summary>What the server said to one send or draft save.</summary>
    public sealed class AosSubmitResult
    {
        public AosSubmitResult(AosSubmitKind kind, DateTimeOffset submitted, TimeSpan elapsed, string serverAnswer, long requestBytes, bool sessionRenewed)
        {
            Kind = kind;
            Submitted = submitted;
            Elapsed = elapsed;
            ServerAnswer = serverAnswer;
            RequestBytes = requestBytes;
            SessionRenewed = sessionRenewed;
        }

        public AosSubmitKind Kind { get; }
        public DateTimeOffset Submitted { get; }
        public TimeSpan Elapsed { get; }

        /// <summary>The trimmed answer body ("OK").</summary>
        public string ServerAnswer { get; }

        /// <summary>Size of the form body that was posted.</summary>
        public long RequestBytes { get; }

        /// <summary>True when the session had expired and was renewed once before this submission (docs/aos-protocol.md B14).</summary>
        public bool SessionRenewed { get; }

        /// <summary>
        /// Set when the server confirmed the submission but the send journal could not record it
        /// (AosJournalWriteFailed): the row was sent, and its report says the journal missed it.
        /// </summary>
        public AosException? NotRecorded { get; private set; }

        /// <summary>This result, marked as not recorded by the journal.</summary>
        internal AosSubmitResult WithNotRecorded(AosException problem)
        {
            var copy = (AosSubmitResult)MemberwiseClone();
            copy.NotRecorded = problem;
            return copy;
        }
    }
}
