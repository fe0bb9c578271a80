@{
    RootModule           = 'AosMail.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Desktop', 'Core')
    GUID                 = '5f0c2a8e-6b7d-4c1e-9a3f-2d8b7e41c6a9'
    Author               = 'AosMail contributors'
    CompanyName          = 'AosMail contributors'
    Copyright            = '(c) AosMail contributors. MIT licence.'
    Description          = 'Send mail, save and overwrite drafts through the AOS (AfterOffice Server) web-mail HTTP API, from the prompt, scheduled tasks and runbooks.'
    PowerShellVersion    = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess     = @()
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
            Tags       = @('AOS', 'AfterOffice', 'Mail', 'Email', 'SendMail', 'Draft', 'MIME', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = 'First release: sessions, sending and drafts.'
        }
    }
}
