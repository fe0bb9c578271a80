using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text.RegularExpressions;

namespace AosMail.Completion
{
    /// <summary>
    /// Completes -Session with the variables in scope whose value is an AosSession, as "$name"
    /// (or "${name}" when the name needs braces, e.g. when it contains a space). The tooltip
    /// shows the account and the server, never anything secret.
    /// </summary>
    internal sealed class AosSessionCompleter : IArgumentCompleter
    {
        private static readonly Regex SimpleName = new Regex(@"^[\p{L}\p{Nd}_]+$", RegexOptions.CultureInvariant);

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string typed = Unquote(wordToComplete);
            var pattern = WildcardPattern.Get(WildcardPattern.Escape(typed) + "*", WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);

            IEnumerable<PSVariable> variables;
            try
            {
                variables = GetVariables();
            }
            catch (Exception e) when (e is PSInvalidOperationException || e is InvalidOperationException)
            {
                // No runspace to ask (completion called off the pipeline thread): offer nothing.
                return Enumerable.Empty<CompletionResult>();
            }

            return variables
                .Where(v => v.Name != "_" && v.Name != "PSItem" && v.Name != "this")
                .Select(v => (Variable: v, Session: Unwrap(v.Value) as AosSession))
                .Where(p => p.Session != null && pattern.IsMatch(p.Variable.Name))
                .OrderBy(p => p.Variable.Name, StringComparer.OrdinalIgnoreCase)
                .Select(p => new CompletionResult(
                    ToVariableText(p.Variable.Name),
                    "$" + p.Variable.Name,
                    CompletionResultType.Variable,
                    $"[AosSession] {p.Session}"))
                .ToList();
        }

        /// <summary>The variables visible from where completion runs (the prompt's scopes).</summary>
        private static IEnumerable<PSVariable> GetVariables()
        {
            using (PowerShell ps = PowerShell.Create(RunspaceMode.CurrentRunspace))
            {
                ps.AddCommand("Microsoft.PowerShell.Utility\\Get-Variable");
                return ps.Invoke<PSVariable>().Where(v => v != null).ToList();
            }
        }

        private static object? Unwrap(object? value) => value is PSObject pso ? pso.BaseObject : value;

        /// <summary>"$se", "${my s" or "se" all mean the name prefix "se" / "my s".</summary>
        private static string Unquote(string? word)
        {
            string text = word ?? string.Empty;
            if (text.StartsWith("$", StringComparison.Ordinal)) text = text.Substring(1);
            if (text.StartsWith("{", StringComparison.Ordinal)) text = text.Substring(1).TrimEnd('}');
            return text;
        }

        internal static string ToVariableText(string name)
        {
            if (SimpleName.IsMatch(name)) return "$" + name;
            // Braced variable names escape '}' and '`' with a backtick.
            return "${" + name.Replace("`", "``").Replace("}", "`}") + "}";
        }
    }
}
