namespace System.Management.Automation
{
    // What the .NET Framework check (AosMail.FrameworkCheck.dll) throws when it stops an import,
    // with the members the lane reads. ErrorCategory's values are PowerShell's own.
    public enum ErrorCategory
    {
        NotSpecified = 0,
        NotInstalled = 12,
    }

    public class ErrorCategoryInfo
    {
        internal ErrorCategoryInfo(ErrorCategory category) => Category = category;

        public ErrorCategory Category { get; }
    }

    public class ErrorRecord
    {
        public ErrorRecord(Exception exception, string errorId, ErrorCategory errorCategory, object targetObject)
        {
            Exception = exception;
            FullyQualifiedErrorId = errorId;
            CategoryInfo = new ErrorCategoryInfo(errorCategory);
            TargetObject = targetObject;
        }

        public Exception Exception { get; }

        public string FullyQualifiedErrorId { get; }

        public ErrorCategoryInfo CategoryInfo { get; }

        public object TargetObject { get; }
    }

    public class RuntimeException : Exception
    {
        public RuntimeException(string message, Exception innerException, ErrorRecord errorRecord)
            : base(message, innerException) => ErrorRecord = errorRecord;

        public virtual ErrorRecord ErrorRecord { get; }
    }
}
