using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace AosMail.Engine
{
    /// <summary>
    /// Every protocol constant of docs/aos-protocol.md in one place, so each choice lives in one
    /// spot and the tests can pin it. Throughout the engine, "A" and "B1" to "B24" name the
    /// sections and choices of that document (Part A: what AOS documents; Part B: our choices).
    /// </summary>
    internal static class AosProtocol
    {
        // A / B1: command paths, appended to the base URI after "/".
        public const string LoginCommand = "st.login.mms";
        public const string VerifyCommand = "sqVry.user.mms";

        /// <summary>Prefixed by the SID in the URL ("SIDxxx.sdmailact.mail.mms"); logged without it.</summary>
        public const string SubmitCommand = "sdmailact.mail.mms";

        // A / B17 / B19: the read commands, SID-prefixed like sdmailact.
        public const string ListCommand = "openbox.mbox.mms";
        public const string ReadCommand = "rdmail.mbox.mms";
        public const string MailboxTableCommand = "mboxtable.mbox.mms";

        // B2: the one content type every request uses.
        public const string FormMediaType = "application/x-www-form-urlencoded";
        public const string FormCharset = "utf-8";

        // Field names and fixed values.
        public const string FieldApi = "api";
        public const string ApiMachineReadable = "lc";
        public const string Checked = "checked";

        // A: read fields (openbox: api, mbox, LCTop; rdmail: api, mbox, file; mboxtable: api).
        public const string FieldMailbox = "mbox";
        public const string FieldTop = "LCTop";
        public const string FieldFile = "file";

        // B17: an openbox line has at least 6 TAB fields (the oldest servers send only those), 9 in full.
        public const int ListingLegacyFields = 6;
        public const int ListingFullFields = 9;
        public const string ListingStatusRead = "Read";
        public const string ListingStatusNew = "New";

        // B3: login fields, in this order.
        public const string FieldName = "name";
        public const string FieldHost = "host";
        public const string FieldPassword = "pswd";

        // A: session check.
        public const string FieldSid = "sid";

        // B5: sdmailact fields (their wire order is SubmitFieldOrder).
        public const string FieldDraftId = "mid";
        public const string FieldTo = "mto";
        public const string FieldCc = "mcc";
        public const string FieldBcc = "mbcc";
        public const string FieldSubject = "msub";
        public const string FieldBody = "body";
        public const string FieldPriority = "mprio";
        public const string FieldHeader = "mheader";
        public const string FieldSend = "snd";
        public const string FieldSaveDraft = "svdrf";
        public const string FieldKeepCopy = "keepcopy";

        /// <summary>B5: the order of the sdmailact fields on the wire; every submission form is built in it.</summary>
        public static readonly IReadOnlyList<string> SubmitFieldOrder = new[]
        {
            FieldApi, FieldDraftId, FieldTo, FieldCc, FieldBcc, FieldSubject, FieldBody, FieldPriority, FieldHeader,
            FieldSend, FieldSaveDraft, FieldKeepCopy,
        };

        // B13 / A: answers.
        public const string AnswerOk = "OK";
        public const string AnswerTrue = "true";
        public const string AnswerFalse = "false";

        // B4: a session id answer.
        public static readonly Regex SidAnswer = new Regex("^SID[A-Za-z0-9]{4,61}\\z", RegexOptions.CultureInvariant);

        // B13: any SID-looking token in a text shown to the user is masked.
        // A server may echo the session id in another case: "sid..." is masked too when it starts a
        // word and has a digit, so that words such as "considered" stay as they are.
        public static readonly Regex SidAnywhere = new Regex("SID[A-Za-z0-9]{4,}|(?i:\\bsid(?=[a-z]*[0-9])[a-z0-9]{4,})", RegexOptions.CultureInvariant);
        public const string SidMask = "SID\u2026";

        // What stands for the password where a server's answer quotes it.
        public const string SecretMask = "\u2026";

        // B4 / B13: the server text shown in messages is at most this long.
        public const int ServerTextMaxLength = 300;

        // B12: a draft id is a server token. Message ids from openbox are the same kind of token
        // (a draft's openbox id is its mid), so one rule checks both; it also keeps "<id>.eml" a safe file name.
        public static readonly Regex DraftId = new Regex("^[A-Za-z0-9._-]{1,64}\\z", RegexOptions.CultureInvariant);
        public static Regex MessageId => DraftId;

        // B11: priority range.
        public const int PriorityHighest = 1;
        public const int PriorityLowest = 5;

        // B10: header names the module owns or the server writes, and the Resent-* family (RFC 5322
        // 3.6.6), which only a server that re-sends a message may write.
        public static readonly IReadOnlyList<string> ReservedHeaders = new[]
        {
            "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID",
            "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
        };

        public const string ReservedHeaderPrefix = "Resent-";

        private static readonly HashSet<string> ReservedHeaderSet = new HashSet<string>(ReservedHeaders, StringComparer.OrdinalIgnoreCase);

        public static bool IsReservedHeader(string name) =>
            ReservedHeaderSet.Contains(name) || name.StartsWith(ReservedHeaderPrefix, StringComparison.OrdinalIgnoreCase);

        // B11: headers that carry a priority of their own; with -Priority (mprio) they would contradict it.
        public static readonly IReadOnlyList<string> PriorityHeaders = new[] { "X-Priority", "X-MSMail-Priority", "Importance", "Priority" };

        // B7: RFC 5322 2.1.1: a header line holds at most 998 characters. The server writes the
        // subject on one line ("Subject: " + msub), so msub may hold 998 - 9.
        public const int MaxHeaderLineLength = 998;
        public const string SubjectHeaderPrefix = "Subject: ";

        // B7 / B8 / B10: RFC 5322 2.1.1: a line SHOULD hold at most 78 characters (CRLF not counted).
        // -Header lines are folded to it, and a plain body with a longer line goes as a MIME text part.
        public const int RecommendedLineLength = 78;

        // B7 / B10: RFC 2047 2: an encoded-word is at most 75 characters.
        public const int MaxEncodedWordLength = 75;

        // B10: headers that parameters compose (-ReplyTo, -RequestReadReceipt, RFC 8098).
        public const string ReplyToHeader = "Reply-To";
        public const string ReadReceiptHeader = "Disposition-Notification-To";

        // B9: inline parts' content ids (Content-ID: <id>); ids this long are surely a mistake.
        public const int MaxContentIdLength = 250;

        // B8 / B9: the module's MIME headers.
        public const string MimeVersionHeader = "MIME-Version: 1.0";
        public const string PlainUtf8ContentType = "Content-Type: text/plain; charset=utf-8";
        public const string EightBitEncoding = "Content-Transfer-Encoding: 8bit";

        // B23: the most an answer may hold. Login, send and session-check answers are a word or a
        // line; listings grow with the mailbox (an openbox line is a few hundred bytes, so this is
        // some hundred thousand messages). rdmail answers are messages and are streamed, unbounded.
        public const long AnswerMaxBytes = 1L * 1024 * 1024;
        public const long ListingAnswerMaxBytes = 64L * 1024 * 1024;

        /// <summary>B23: the largest answer <paramref name="command"/> may have; null for a streamed (rdmail) answer.</summary>
        public static long? AnswerLimit(string command) =>
            command == ReadCommand ? (long?)null
            : command == ListCommand || command == MailboxTableCommand ? ListingAnswerMaxBytes
            : AnswerMaxBytes;

        // A read message up to this size is parsed in memory; a larger one (or one of unknown size)
        // from a temporary file, so that MimeKit keeps offsets into it rather than copies.
        public const long ParseInMemoryMaxBytes = 4L * 1024 * 1024;

        // B23: what a parsed read (Get-AosMessage -Id) holds whatever the message's size. A header
        // block over this is refused before MimeKit parses it (its time grows with the square of a
        // header's length); a text or HTML body over this many characters is cut, and says so.
        public const long HeaderBlockMaxBytes = 1L * 1024 * 1024;
        public const int ParsedBodyMaxChars = 4 * 1024 * 1024;

        // An attachment given as a stream that cannot seek is copied to a temporary file before it
        // is sent (it is read once per pass); this is the most that copy holds, so that an endless
        // stream ends with an error instead of filling the disk. Far more than any mail server takes.
        public const long SpooledStreamMaxBytes = 1L * 1024 * 1024 * 1024;

        // B22: request bodies this large ask the server first (Expect: 100-continue), so that a server
        // refusing the request at once (413) costs no upload. The price is one round trip, or the
        // handler's wait (1 s on .NET, 350 ms on .NET Framework) with a server that never says 100.
        public const long AskFirstMinBytes = 4L * 1024 * 1024;

        // Uploads this large report progress (bytes sent of total), at most this often: smaller ones finish too fast to watch.
        public const long ProgressThresholdBytes = 4L * 1024 * 1024;
        public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

        // B15: back-off before retrying a request that cannot have reached the server.
        public static readonly IReadOnlyList<TimeSpan> NotReachedBackoff = new[] { TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1) };

        // B15: reads and logins may be repeated once after a fault where the request may have arrived.
        public const int ReadRetriesAfterReach = 1;
        public static readonly TimeSpan ReadRetryDelay = TimeSpan.FromMilliseconds(250);

        // B25: settling a send of unknown outcome against the Outbox. Each look lists the newest
        // SettleListTop messages (LCTop), four times as many at once while those all date from after
        // the attempt (up to SettleListMaxTop), and reads at most SettleMaxReads candidates; the looks
        // start after these waits (from the unknown outcome), so "not sent" is said at the earliest 7 s after it.
        public const int SettleListTop = 500;
        public const int SettleListMaxTop = 5000;
        public const int SettleMaxReads = 8;
        public static readonly IReadOnlyList<TimeSpan> SettleLookDelays = new[] { TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4) };

        // B25: messages listed from this long before the attempt's start (on the server's clock) are
        // candidates: slack for a coarse file-system clock that lags the system's by some milliseconds
        // (the Date header itself only ever makes the server's clock look late, which widens the window).
        public static readonly TimeSpan SettleClockMargin = TimeSpan.FromMilliseconds(250);
    }
}
