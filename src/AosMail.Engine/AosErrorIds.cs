namespace AosMail.Engine
{
    /// <summary>
    /// The stable error ids the module reports. Scripts match on these, so a value never changes
    /// once released; README lists each with its category and meaning.
    /// </summary>
    public static class AosErrorIds
    {
        // Validation: raised before any request is made.
        public const string InvalidAddress = "AosInvalidAddress";
        public const string NoRecipient = "AosNoRecipient";
        public const string InvalidSubject = "AosInvalidSubject";
        public const string InvalidHeaderName = "AosInvalidHeaderName";
        public const string HeaderInjection = "AosHeaderInjection";
        public const string ReservedHeader = "AosReservedHeader";
        public const string AttachmentNotFound = "AosAttachmentNotFound";
        public const string InvalidPriority = "AosInvalidPriority";
        public const string InvalidDraftId = "AosInvalidDraftId";
        public const string InvalidServer = "AosInvalidServer";
        public const string UnencryptedRefused = "AosUnencryptedRefused";
        public const string NoSession = "AosNoSession";
        public const string NoCredential = "AosNoCredential";
        public const string InvalidMessageId = "AosInvalidMessageId";
        public const string InvalidMailbox = "AosInvalidMailbox";
        public const string InvalidPath = "AosInvalidPath";
        public const string FileExists = "AosFileExists";
        public const string ConflictingParameters = "AosConflictingParameters";

        // Conversation with the server.
        public const string LoginFailed = "AosLoginFailed";
        public const string SessionExpired = "AosSessionExpired";
        public const string ServerRejected = "AosServerRejected";
        public const string OutcomeUnknown = "AosOutcomeUnknown";
        public const string ConnectionFailed = "AosConnectionFailed";
        public const string MessageNotFound = "AosMessageNotFound";
        public const string MessageTooLarge = "AosMessageTooLarge";
        public const string NotADraft = "AosNotADraft";
    }
}
