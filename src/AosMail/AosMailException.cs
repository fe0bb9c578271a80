using System;
using System.Management.Automation;
using AosMail.Engine;

namespace AosMail
{
    /// <summary>What a failed command did to the mail it was given.</summary>
    public enum AosOutcome
    {
        /// <summary>Nothing was sent or saved (a check failed, the server refused, or no request reached it): running the command again is safe.</summary>
        NothingSent,

        /// <summary>The request may have reached the server: the message may have been sent. Check before running the command again.</summary>
        Unknown,
    }

    /// <summary>
    /// The exception of every AosMail error record, so a script can <c>catch [AosMail.AosMailException]</c>.
    /// It lives in the module's own assembly, which PowerShell 7 and Windows PowerShell 5.1 both resolve
    /// by name (the engine's own exception lives in the module's private load context on PowerShell 7,
    /// where a script cannot name it). Its message is the error's; its inner exception is the cause.
    /// </summary>
    public class AosMailException : Exception
    {
        internal AosMailException(string errorId, ErrorCategory category, string message, Exception? innerException)
            : base(message, innerException)
        {
            ErrorId = errorId;
            Category = category;
        }

        /// <summary>The stable error id (about_AosMail_Errors), as in the record's FullyQualifiedErrorId.</summary>
        public string ErrorId { get; }

        public ErrorCategory Category { get; }

        /// <summary>Whether the message may have been sent: Unknown for AosOutcomeUnknown only.</summary>
        public virtual AosOutcome Outcome => AosOutcome.NothingSent;

        /// <summary>The same error, of the same type, with a longer message (a closing error that adds which rows were sent).</summary>
        internal AosMailException WithMessage(string message) =>
            Outcome == AosOutcome.Unknown
                ? new AosOutcomeUnknownException(ErrorId, Category, message, InnerException)
                : new AosMailException(ErrorId, Category, message, InnerException);

        /// <summary>The public exception for an engine failure: <see cref="AosOutcomeUnknownException"/> for AosOutcomeUnknown.</summary>
        internal static AosMailException From(AosException exception, ErrorCategory category) =>
            exception.ErrorId == AosErrorIds.OutcomeUnknown
                ? new AosOutcomeUnknownException(exception.ErrorId, category, exception.Message, exception.InnerException)
                : new AosMailException(exception.ErrorId, category, exception.Message, exception.InnerException);
    }

    /// <summary>
    /// A send or draft save whose request may have reached the server (AosOutcomeUnknown): the
    /// message may have been delivered, so a script must not simply send it again.
    /// </summary>
    public sealed class AosOutcomeUnknownException : AosMailException
    {
        internal AosOutcomeUnknownException(string errorId, ErrorCategory category, string message, Exception? innerException)
            : base(errorId, category, message, innerException)
        {
        }

        public override AosOutcome Outcome => AosOutcome.Unknown;
    }
}
