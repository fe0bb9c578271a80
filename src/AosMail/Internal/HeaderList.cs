using System.Collections;
using System.Collections.Specialized;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using AosMail.Engine;

namespace AosMail.Internal
{
    /// <summary>
    /// Turns a -Header dictionary into ordered name/value pairs (docs/aos-protocol.md B10). Ordered dictionaries keep
    /// their order; a plain hashtable has none, so its names are sorted to make the wire
    /// repeatable. An array value repeats the header; values are formatted invariantly. A $null
    /// value or an empty array is refused (AosInvalidHeaderValue): it is a mistake (an unset
    /// variable, an empty result), not a header.
    /// </summary>
    internal static class HeaderList
    {
        public static IEnumerable<KeyValuePair<string, string>> From(IDictionary? headers)
        {
            if (headers is null) yield break;

            IEnumerable<DictionaryEntry> entries = headers.Cast<DictionaryEntry>();
            if (!(headers is IOrderedDictionary))
            {
                entries = entries.OrderBy(e => ToText(e.Key), System.StringComparer.OrdinalIgnoreCase);
            }

            foreach (DictionaryEntry entry in entries)
            {
                string name = ToText(entry.Key);
                object? value = entry.Value is PSObject pso ? pso.BaseObject : entry.Value;
                if (value is IEnumerable many && !(value is string))
                {
                    bool any = false;
                    foreach (object? item in many)
                    {
                        any = true;
                        yield return new KeyValuePair<string, string>(name, ToValue(name, item));
                    }

                    if (!any)
                    {
                        throw new AosException(AosErrorIds.InvalidHeaderValue, AosErrorCategory.InvalidArgument,
                            $"The header '{name}' has an empty list of values (@()), which would send no header: give a value, or leave the header out.", name);
                    }
                }
                else
                {
                    yield return new KeyValuePair<string, string>(name, ToValue(name, value));
                }
            }
        }

        private static string ToValue(string name, object? value)
        {
            if (value is null || (value is PSObject pso && pso.BaseObject is null))
            {
                throw new AosException(AosErrorIds.InvalidHeaderValue, AosErrorCategory.InvalidArgument,
                    $"The header '{name}' has no value ($null): give it a value (an empty string sends an empty header), or leave it out.", name);
            }

            return ToText(value);
        }

        private static string ToText(object? value)
        {
            if (value is null) return "";
            object baseValue = value is PSObject pso ? pso.BaseObject : value;
            return LanguagePrimitives.ConvertTo<string>(baseValue) ?? string.Empty;
        }
    }
}
