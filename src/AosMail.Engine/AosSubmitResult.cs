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

        /// <summary>
        /// Set when no answer confirmed the send but its copy was found in the Outbox (settled,
        /// docs/aos-protocol.md B25): the id of that copy.
        /// </summary>
        public string? SettledAs { get; private set; }

        /// <summary>A send whose answer was lost, settled as sent by its copy in the Outbox.</summary>
        internal static AosSubmitResult Settled(DateTimeOffset attempted, TimeSpan elapsed, string outboxId) =>
            new AosSubmitResult(AosSubmitKind.Send, attempted, elapsed, "settled: found in the Outbox as " + outboxId, 0, false) { SettledAs = outboxId };

        /// <summary>This result, marked as not recorded by the journal.</summary>
        internal AosSubmitResult WithNotRecorded(AosException problem)
        {
            var copy = (AosSubmitResult)MemberwiseClone();
            copy.NotRecorded = problem;
            return copy;
        }
    }
}
