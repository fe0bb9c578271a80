using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;

namespace AosMail
{
    /// <summary>
    /// A list of recipients or attachment names on an output object. It enumerates like an array
    /// (pipeline, foreach, -contains, ConvertTo-Json), and its text is the entries joined by "; ",
    /// so Export-Csv and ConvertTo-Csv, which write a property's ToString(), log who got a message
    /// instead of "System.String[]". "; " is the separator Outlook uses.
    /// </summary>
    public sealed class AosStringList : ReadOnlyCollection<string>
    {
        /// <summary>What <see cref="ToString"/> puts between entries.</summary>
        public const string Separator = "; ";

        // A ReadOnlyCollection is an IList, which PowerShell needs to bind it to a string[] parameter
        // entry by entry (-To $result.To); a list that is only enumerable would bind as one string.
        internal AosStringList(IEnumerable<string>? items)
            : base(items?.ToArray() ?? new string[0])
        {
        }

        /// <summary>As Count: these properties were string[] once, and without it PowerShell would answer .Length with 1.</summary>
        public int Length => Count;

        public override string ToString() => string.Join(Separator, this);
    }
}
