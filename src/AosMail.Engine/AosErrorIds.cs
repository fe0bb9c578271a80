namespace AosMail.Engine
{
    /// <summary>
    /// The stable error ids the module reports. Scripts match on these, so a value never changes
    /// once released; docs/en-US/about_AosMail_Errors.md lists each with its category and meaning
    /// (tests/Help.Tests.ps1 checks that it names every one).
    /// </summary>
    public static class AosErrorIds
    {
        // Validation: raised before any request is made.
        public const string InvalidAddress = "AosInvalidAddress";
        public const string NoRecipient = "AosNoRecipient";
        public const string InvalidSubject = "AosInvalidSubject";
        public const string InvalidHeaderName = "AosInvalidHeaderName";
        public const string HeaderInjection = "AosHeaderInjection";
        public const string InvalidHeaderValue = "AosInvalidHeaderValue";
        public const string ReservedHeader = "AosReservedHeader";
        public const string AttachmentNotFound = "AosAttachmentNotFound";
        public const string InvalidAttachment = "AosInvalidAttachment";
        public const string MissingInlineAttachment = "AosMissingInlineAttachment";
        public const string BodyFileNotFound = "AosBodyFileNotFound";
        public const string InvalidPriority = "AosInvalidPriority";
        public const string InvalidDraftId = "AosInvalidDraftId";
        public const string InvalidServer = "AosInvalidServer";
        public const string InvalidProxy = "AosInvalidProxy";
        public const string UnencryptedRefused = "AosUnencryptedRefused";
        public const string NoSession = "AosNoSession";
        public const string NoCredential = "AosNoCredential";
        public const string InvalidMessageId = "AosInvalidMessageId";
        public const string InvalidMailbox = "AosInvalidMailbox";
        public const string InvalidPath = "AosInvalidPath";
        public const string FileExists = "AosFileExists";
        public const string ConflictingParameters = "AosConflictingParameters";
        public const string AmbiguousPipelineInput = "AosAmbiguousPipelineInput";

        // Conversation with the server.
        public const string LoginFailed = "AosLoginFailed";
        public const string SessionExpired = "AosSessionExpired";
        public const string ServerRejected = "AosServerRejected";
        public const string OutcomeUnknown = "AosOutcomeUnknown";
        public const string AttachmentChanged = "AosAttachmentChanged";
        public const string ConnectionFailed = "AosConnectionFailed";
        public const string MessageNotFound = "AosMessageNotFound";
        public const string MessageTooLarge = "AosMessageTooLarge";
        public const string NotADraft = "AosNotADraft";
        public const string AttachmentUnreadable = "AosAttachmentUnreadable";

        // The send journal (Send-AosMessage -JournalPath).
        public const string JournalInUse = "AosJournalInUse";
        public const string JournalMismatch = "AosJournalMismatch";
        public const string JournalCorrupt = "AosJournalCorrupt";
        public const string JournalWriteFailed = "AosJournalWriteFailed";
        public const string JournalDuplicateKey = "AosJournalDuplicateKey";
        public const string JournalKeyMissing = "AosJournalKeyMissing";
        public const string JournalTooLarge = "AosJournalTooLarge";
        public const string JournalSentNotRecorded = "AosJournalSentNotRecorded";

        // Settling a send of unknown outcome against the Outbox (Send-AosMessage -KeepCopy).
        public const string NotSent = "AosNotSent";

        // The environment. Raised by AosMail.FrameworkCheck.dll before any of the module's code can
        // load (so it spells the id itself); listed here so that this list is whole.
        public const string DotNetFrameworkTooOld = "AosDotNetFrameworkTooOld";
    }
}
