@{
    RootModule           = 'AosMail.dll'
    # The one version source: build.ps1 passes it to dotnet (-p:Version) and the package carries it.
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Desktop', 'Core')
    GUID                 = '5f0c2a8e-6b7d-4c1e-9a3f-2d8b7e41c6a9'
    Author               = 'AosMail contributors'
    CompanyName          = 'AosMail contributors'
    Copyright            = '(c) AosMail contributors. MIT licence.'
    Description          = 'Send mail, save and overwrite drafts through the AOS (AfterOffice Server) web-mail HTTP API, from the prompt, scheduled tasks and runbooks.'
    PowerShellVersion    = '5.1'
    # 4.7.1: the first .NET Framework with netstandard2.0 built in, and with the HttpClientHandler
    # settings the engine uses (ServerCertificateCustomValidationCallback, MaxConnectionsPerServer).
    # Windows PowerShell cannot check versions above 4.5 itself; docs/windows-powershell.md says how.
    DotNetFrameworkVersion = '4.7.1'
    # Imported before the root module: on .NET Framework below 4.7.1 it stops the import with what
    # to install, before PowerShell reads AosMail.dll's types (which it could not there). A small
    # net462 assembly (src/AosMail.FrameworkCheck), not a script: on PowerShell 7 a script here cost
    # every import its compilation. A nested module rather than ScriptsToProcess, which would add a
    # second module to Get-Module's list and to Import-Module -PassThru's output.
    NestedModules        = @('AosMail.FrameworkCheck.dll')
    FormatsToProcess     = @('AosMail.Format.ps1xml')
    CmdletsToExport      = @(
        'New-AosSession'
        'Send-AosMessage'
        'Save-AosDraft'
        'Get-AosMailbox'
        'Get-AosMessage'
        'Save-AosMessage'
        'Test-AosSession'
        'Remove-AosSession'
        'Get-AosSession'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('AOS', 'AfterOffice', 'Mail', 'Email', 'SendMail', 'Draft', 'MIME', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            # ProjectUri is left out on purpose: the project has no public home yet, and a gallery
            # page should not link to a placeholder. Add it when the repository is published.
            ReleaseNotes = @'
0.1.0 - first release.
- New-AosSession logs in to an AOS server (https by default; http only with -AllowUnencryptedAuthentication).
- Send-AosMessage sends plain, HTML and attachment mail, one message per pipeline record (Import-Csv | Send-AosMessage).
- Save-AosDraft saves and overwrites drafts.
- Stable error ids (AosOutcomeUnknown: the message may have been sent, never retried); no secret in output, logs or errors.
- Help (Get-Help, about_AosMail, about_AosMail_Protocol), table views and -Session/-Priority tab completion.
'@
        }
    }
}
