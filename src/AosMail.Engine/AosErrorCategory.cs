namespace AosMail.Engine
{
    /// <summary>
    /// The engine's own error categories. Each name equals a member of PowerShell's
    /// System.Management.Automation.ErrorCategory, so the cmdlets map them by name
    /// without the engine referencing PowerShell.
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
    }
}
