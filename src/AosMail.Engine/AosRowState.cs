using System;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>
    /// What has happened to one pipeline row of Send-AosMessage or Save-AosDraft. The request
    /// window, the journal, the stop warnings and the error records all read this one state;
    /// <see cref="AosRowStates.After(Task{AosSubmitResult})"/> is the one place a finished request
    /// becomes a state.
    /// </summary>
    public enum AosRowState
    {
        /// <summary>Refused before any request (a check, the journal): nothing was sent; its error is its report.</summary>
        RefusedBeforeWire,

        /// <summary>Ended without a request and without an error: -WhatIf, a declined -Confirm, or a row an earlier run sent (the journal).</summary>
        Skipped,

        /// <summary>Its request has started and has not ended.</summary>
        Sending,

        /// <summary>Its request failed before anything reached the server: nothing was sent.</summary>
        NotSent,

        /// <summary>Its request may have reached the server, but no answer says what the server did.</summary>
        MaybeSent,

        /// <summary>The server confirmed it (and the journal, if any, recorded that, or has it queued for its next flush: the row is written once it is on disk).</summary>
        Sent,

        /// <summary>The server confirmed it, but the journal could not record that.</summary>
        SentNotRecorded,
    }

    /// <summary>The transitions of <see cref="AosRowState"/> and what each state means to those who report it.</summary>
    public static class AosRowStates
    {
        /// <summary>The state a finished request leaves its row in.</summary>
        public static AosRowState After(Task<AosSubmitResult> work)
        {
            if (work == null) throw new ArgumentNullException(nameof(work));
            if (!work.IsCompleted) return AosRowState.Sending;
            if (work.Status == TaskStatus.RanToCompletion)
            {
                return work.Result.NotRecorded is null ? AosRowState.Sent : AosRowState.SentNotRecorded;
            }

            return work.IsCanceled ? AosRowState.MaybeSent : After(work.Exception!.InnerException!);
        }

        /// <summary>
        /// The state a request that threw leaves its row in: the engine raises an AosException other
        /// than AosOutcomeUnknown only when nothing was sent; anything else (AosOutcomeUnknown, a
        /// cancellation, an unexpected exception) may have come after the server acted.
        /// </summary>
        public static AosRowState After(Exception error) =>
            error is AosException e && e.ErrorId != AosErrorIds.OutcomeUnknown ? AosRowState.NotSent : AosRowState.MaybeSent;

        /// <summary>Whether the row's report includes an error (what -ErrorAction Stop stops on).</summary>
        public static bool IsError(this AosRowState state) =>
            state == AosRowState.RefusedBeforeWire || state == AosRowState.NotSent
            || state == AosRowState.MaybeSent || state == AosRowState.SentNotRecorded;

        /// <summary>Whether the server confirmed the row.</summary>
        public static bool WasSent(this AosRowState state) => state == AosRowState.Sent || state == AosRowState.SentNotRecorded;

        /// <summary>Whether the server may have acted on the row without a confirmation (a stop names such rows).</summary>
        public static bool MayHaveBeenSent(this AosRowState state) => state == AosRowState.Sending || state == AosRowState.MaybeSent;
    }
}
