namespace AosMail.Engine
{
    /// <summary>
    /// The engine's own error categories, so that it needs no PowerShell types: each is a
    /// member of PowerShell's ErrorCategory, to which the cmdlets map it (AosCmdlet).
    /// </summary>
    public enum AosErrorCategory
    {
        NotSpecified,
        InvalidArgument,
        InvalidData,
        ObjectNotFound,
        AuthenticationError,
        SecurityError,
        ConnectionError,
        ProtocolError,
        OperationTimeout,
        InvalidResult,
        InvalidOperation,
        ResourceUnavailable,
        ResourceExists,
        WriteError,
        ReadError,
    }
}
