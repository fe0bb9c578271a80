using System;
using System.Management.Automation;
using Microsoft.PowerShell.Commands;

namespace AosMail.Internal
{
    /// <summary>Resolves a path the PowerShell way: against the current location, not the process directory.</summary>
    internal static class FileSystemPath
    {
        /// <summary>The full file-system path (which need not exist yet); null when the path is not a file-system path.</summary>
        public static string? Resolve(SessionState sessionState, string path)
        {
            try
            {
                string full = sessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out ProviderInfo provider, out _);
                return provider.ImplementingType == typeof(FileSystemProvider) ? full : null;
            }
            catch (Exception e) when (e is ItemNotFoundException || e is ProviderNotFoundException || e is DriveNotFoundException
                || e is NotSupportedException || e is ArgumentException || e is PSInvalidOperationException)
            {
                return null;
            }
        }
    }
}
