using System;
using System.Globalization;
using System.Management.Automation;
using System.Text;

namespace AosMail.Internal
{
    /// <summary>
    /// Lets -Encoding take what Get-Content's -Encoding takes in PowerShell 7 (utf8, unicode,
    /// oem, ansi, a code page number, an encoding name such as windows-1252) or an Encoding, in
    /// Windows PowerShell too, whose own transformation for it is not public; and the names of
    /// Windows PowerShell 5.1's -Encoding with 5.1's meaning (Default: the ANSI code page, as 5.1's
    /// Get-Content reads it; String: UTF-16; UTF7), so that a 5.1 script's -Encoding Default reads
    /// the file it always read.
    /// </summary>
    internal sealed class AosEncodingTransformationAttribute : ArgumentTransformationAttribute
    {
        /// <summary>The names offered by tab completion; code pages and encoding names work too.</summary>
        internal static readonly string[] Names =
        {
            "utf8", "utf8BOM", "utf8NoBOM", "ascii", "unicode", "bigendianunicode", "utf32", "bigendianutf32", "latin1", "ansi", "oem", "default", "utf7",
        };

        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
            try
            {
                switch (value)
                {
                    case int codePage:
                        return Encoding.GetEncoding(codePage);
                    case string name when string.Equals(name.Trim(), "byte", StringComparison.OrdinalIgnoreCase):
                        throw new ArgumentTransformationMetadataException("-Encoding Byte (Windows PowerShell's byte stream) reads bytes, not text: give the file's text encoding, or send a binary file with -Attachments.");
                    case string name when !string.IsNullOrWhiteSpace(name):
                        return FromName(name.Trim());
                    default:
                        return inputData;
                }
            }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException)
            {
                throw new ArgumentTransformationMetadataException(
                    $"'{value}' is not an encoding: give one of {string.Join(", ", Names)}, a code page number or an encoding name such as windows-1252.", e);
            }
        }

        private static Encoding FromName(string name)
        {
            switch (name.ToLowerInvariant())
            {
                // For reading, a byte order mark is detected either way: the three UTF-8 names mean the same.
                case "utf8":
                case "utf8bom":
                case "utf8nobom":
                    return new UTF8Encoding(false);
                case "string": return Encoding.Unicode;
                case "utf7": return new UTF7Encoding();
                case "ascii": return Encoding.ASCII;
                case "unicode": return Encoding.Unicode;
                case "bigendianunicode": return Encoding.BigEndianUnicode;
                case "utf32": return Encoding.UTF32;
                case "bigendianutf32": return new UTF32Encoding(bigEndian: true, byteOrderMark: true);
                case "latin1": return Encoding.GetEncoding(28591);
                case "ansi":
                case "default":
                    return Encoding.GetEncoding(CultureInfo.CurrentCulture.TextInfo.ANSICodePage);
                case "oem": return Encoding.GetEncoding(CultureInfo.CurrentCulture.TextInfo.OEMCodePage);
                default:
                    return int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int codePage)
                        ? Encoding.GetEncoding(codePage)
                        : Encoding.GetEncoding(name);
            }
        }
    }
}
