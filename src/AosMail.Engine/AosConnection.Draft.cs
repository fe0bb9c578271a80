using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using static System.FormattableString;
using MimeKit;

namespace AosMail.Engine
{
    /// <summary>
    /// Draft saves and how a saved draft's id is found: AOS answers a save with "OK" only, so the
    /// Draft mailbox is listed before and after the save.
    /// </summary>
    public sealed partial class AosConnection
    {
        /// <summary>
        /// Saves a draft and finds its id (AOS answers a save with "OK" only): the Draft mailbox's
        /// ids are listed before and after the save. An overwritten draft whose id is still listed
        /// keeps it; otherwise the one new id is the draft's. When several new ids appear (another
        /// client saved at the same moment), each candidate's headers are read and the one carrying
        /// this save's <paramref name="token"/> (see <see cref="StampDraftToken"/>) is chosen.
        /// Listing Draft before the save may fail (nothing is saved then); once the server confirmed
        /// the save, failures only leave DraftId null with the reason in Problem.
        /// </summary>
        public async Task<AosDraftSaveResult> SaveDraftAsync(AosPreparedSubmission submission, string token, IAosLog log, CancellationToken cancellationToken)
        {
            if (submission == null)
            {
                throw new ArgumentNullException(nameof(submission));
            }

            if (submission.Kind != AosSubmitKind.SaveDraft)
            {
                throw new ArgumentException("Only a draft save finds a draft id.", nameof(submission));
            }

            log = log ?? NullAosLog.Instance;
            var before = await ListIdsAsync(log, cancellationToken).ConfigureAwait(false);
            var result = await SubmitAsync(submission, log, cancellationToken).ConfigureAwait(false);
            try
            {
                var after = await ListIdsAsync(log, cancellationToken).ConfigureAwait(false);
                if (submission.DraftId != null && after.Contains(submission.DraftId))
                {
                    log.Verbose($"The overwritten draft keeps its id {submission.DraftId}.");
                    return new AosDraftSaveResult(result, submission.DraftId, null);
                }

                var added = after.Where(id => !before.Contains(id)).ToList();
                if (added.Count == 1)
                {
                    log.Verbose($"The draft's id is {added[0]} (the one new id in '{DraftMailbox}').");
                    return new AosDraftSaveResult(result, added[0], null);
                }

                if (added.Count == 0)
                {
                    return new AosDraftSaveResult(result, null,
                        $"no new message appeared in the mailbox '{DraftMailbox}' after the save");
                }

                log.Verbose(Invariant($"{added.Count} new ids appeared in '{DraftMailbox}' (another client saving too?); reading them for this save's token."));
                foreach (var candidate in added)
                {
                    var raw = await ReadMessageAsync(DraftMailbox, candidate, log, cancellationToken).ConfigureAwait(false);
                    if (CarriesToken(raw, token))
                    {
                        log.Verbose($"The draft's id is {candidate} (it carries this save's {AosProtocol.DraftTokenHeader}).");
                        return new AosDraftSaveResult(result, candidate, null);
                    }
                }

                return new AosDraftSaveResult(result, null,
                    Invariant($"{added.Count} new messages appeared in '{DraftMailbox}' and none carries this save's {AosProtocol.DraftTokenHeader}"));
            }
            catch (AosException ex)
            {
                return new AosDraftSaveResult(result, null, ex.Message);
            }
        }

        /// <summary>Adds a fresh <c>X-AosMail-Draft-Token</c> header to a draft about to be saved and returns the token.</summary>
        public static string StampDraftToken(AosMessage message)
        {
            if (message == null)
            {
                throw new ArgumentNullException(nameof(message));
            }

            var bytes = new byte[16];
            using (var random = RandomNumberGenerator.Create())
            {
                random.GetBytes(bytes);
            }

            var token = BitConverter.ToString(bytes).Replace("-", "").ToLowerInvariant();
            message.Headers.Add(new KeyValuePair<string, string>(AosProtocol.DraftTokenHeader, token));
            return token;
        }

        internal static bool CarriesToken(byte[] raw, string token)
        {
            try
            {
                using (var stream = new MemoryStream(raw, writable: false))
                {
                    var headers = HeaderList.Load(stream);
                    return headers.Any(h => string.Equals(h.Field, AosProtocol.DraftTokenHeader, StringComparison.OrdinalIgnoreCase)
                        && string.Equals(h.Value.Trim(), token, StringComparison.Ordinal));
                }
            }
            catch (FormatException)
            {
                return false;
            }
        }

        private async Task<HashSet<string>> ListIdsAsync(IAosLog log, CancellationToken cancellationToken)
        {
            var listing = await ListMessagesAsync(DraftMailbox, 0, log, cancellationToken).ConfigureAwait(false);
            return new HashSet<string>(listing.Messages.Select(m => m.Id), StringComparer.Ordinal);
        }
    }

    /// <summary>What a draft save did, and the draft's id when it could be found.</summary>
    public sealed class AosDraftSaveResult
    {
        public AosDraftSaveResult(AosSubmitResult submit, string? draftId, string? problem)
        {
            Submit = submit;
            DraftId = draftId;
            Problem = problem;
        }

        public AosSubmitResult Submit { get; }

        /// <summary>The saved draft's id; null when it could not be determined (see <see cref="Problem"/>).</summary>
        public string? DraftId { get; }
        public string? Problem { get; }
    }
}
