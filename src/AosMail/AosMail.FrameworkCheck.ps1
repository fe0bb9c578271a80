# Runs before Windows PowerShell reads AosMail.dll (a nested module: imported before the root). AosMail.dll
# is built for .NET Standard 2.0, which .NET Framework has built in from 4.7.1 (release 461308);
# on an older one (stock Windows Server 2016 has 4.6.2) the import would fail with "Could not load
# file or assembly 'netstandard'", and Windows PowerShell does not enforce the manifest's
# DotNetFrameworkVersion itself. This stops the import with what is installed and what to install.
# PowerShell 7 leaves at the first line: anything more (a script block with parameters) would cost
# every import there a measurable share. It defines and exports nothing. Given a release number
# (tests), it judges that number instead of the registry's.
if ($args.Count -eq 0 -and $PSVersionTable.PSEdition -ne 'Desktop') { return }
& {
    param([int] $Release = -1)

    if ($Release -lt 0) {
        $key = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' -Name Release -ErrorAction Ignore
        $Release = if ($key) { [int]$key.Release } else { 0 }
    }
    if ($Release -ge 461308) { return }

    # Each version's lowest release number, newest first, from Microsoft's table of .NET Framework releases.
    $versions = @(@(460798, '4.7'), @(394802, '4.6.2'), @(394254, '4.6.1'), @(393295, '4.6'), @(379893, '4.5.2'), @(378675, '4.5.1'), @(378389, '4.5'))
    $installed = 'no .NET Framework 4.5 or later'
    foreach ($version in $versions) {
        if ($Release -ge $version[0]) { $installed = ".NET Framework $($version[1]) (release $Release)"; break }
    }
    $message = "AosMail needs .NET Framework 4.7.1 or later (release 461308 or higher), and this computer has $installed. " +
        'Install .NET Framework 4.8 (https://dotnet.microsoft.com/download/dotnet-framework/net48) and restart Windows, ' +
        'or use AosMail from PowerShell 7 (https://aka.ms/powershell), which brings its own .NET.'
    throw [System.Management.Automation.ErrorRecord]::new([System.PlatformNotSupportedException]::new($message),
        'AosDotNetFrameworkTooOld', [System.Management.Automation.ErrorCategory]::NotInstalled, $Release)
} @args
