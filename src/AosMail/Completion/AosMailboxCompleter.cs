using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Threading;
using System.Threading.Tasks;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Completion
{
    /// <summary>
    /// Completes -Mailbox from the server's mailbox list (mboxtable) of -Session when it is given,
    /// else of the default session. Names with spaces or quote characters come back single-quoted.
    /// Never throws and never waits more than a few seconds: no session, or a server that does
    /// not answer, completes nothing.
    /// </summary>
    internal sealed class AosMailboxCompleter : IArgumentCompleter
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            AosSession? session = null;
            if (fakeBoundParameters is not null && fakeBoundParameters.Contains("Session"))
            {
                object? value = fakeBoundParameters["Session"];
                session = (value is PSObject wrapped ? wrapped.BaseObject : value) as AosSession;
            }

            session ??= AosSessionStore.Default;
            if (session is null || session.Connection.IsClosed) return Array.Empty<CompletionResult>();

            IReadOnlyList<AosMailboxEntry> entries;
            try
            {
                using var cancel = new CancellationTokenSource(Limit);
                Task<IReadOnlyList<AosMailboxEntry>> task = Task.Run(() => session.Connection.ListMailboxesAsync(NullAosLog.Instance, cancel.Token));
                if (!task.Wait(Limit)) return Array.Empty<CompletionResult>();
                entries = task.Result;
            }
            catch (Exception)
            {
                return Array.Empty<CompletionResult>();
            }

            string typed = (wordToComplete ?? "").Trim('\'', '"');
            return entries
                .Where(e => e.Name.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
                .Select(e => new CompletionResult(Quote(e.Name), e.Name, CompletionResultType.ParameterValue,
                    e.MessageCount is null ? e.Name : $"{e.Name} ({e.MessageCount} messages, {e.UnreadCount ?? 0} new)"))
                .ToArray();
        }

        /// <summary>A name as a command-line argument: bare when safe, else single-quoted.</summary>
        internal static string Quote(string name)
        {
            bool bare = name.Length > 0 && name.All(c => char.IsLetterOrDigit(c) || c == '.' || c == '_' || c == '-' || c == '/')
                && name[0] != '-';
            return bare ? name : "'" + CodeGeneration.EscapeSingleQuotedStringContent(name) + "'";
        }
    }
}
