# The package a gallery would get. build.ps1 Test packages once per run (New-ModulePackage, the
# same step as `./build.ps1 Package`) into $env:AOS_TEST_PACKAGE_DIR; this file installs that
# .nupkg from a temporary file repository into a clean folder (Save-PSResource) and into a fresh
# user's scope (Install-PSResource), then imports the installed copy in a fresh pwsh. Sending through it goes to the
# sandbox.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $manifest = Import-PowerShellDataFile -LiteralPath $env:AOS_TEST_MODULE
    $version = $manifest.ModuleVersion
    $packageDir = $env:AOS_TEST_PACKAGE_DIR
    if (-not $packageDir) { throw 'AOS_TEST_PACKAGE_DIR is not set: run these tests through ./build.ps1 Test, which packages the module first.' }
    $nupkg = Join-Path $packageDir "AosMail.$version.nupkg"

    $work = Join-Path ([IO.Path]::GetTempPath()) ('aos-package-' + [guid]::NewGuid().ToString('n'))
    $installRoot = Join-Path $work 'modules'
    $null = New-Item -ItemType Directory -Force -Path $installRoot
    $repository = 'AosMailTest-' + [guid]::NewGuid().ToString('n').Substring(0, 12)
    Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
    Register-PSResourceRepository -Name $repository -Uri $packageDir
    $saved = Save-PSResource -Name AosMail -Version $version -Repository $repository -TrustRepository -Path $installRoot -PassThru -ErrorAction Stop
    $installed = Join-Path $installRoot "AosMail/$version/AosMail.psd1"


    function Invoke-Installed([string] $Script) {
        $output = Invoke-ChildPwsh -Command $Script
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | Out-String) }
    }
}

AfterAll {
    if ($repository) { Unregister-PSResourceRepository -Name $repository -ErrorAction Ignore }
    if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction Ignore }
}

Describe 'The AosMail package' {
    It 'is named after the manifest version' {
        $nupkg | Should -Exist
    }

    It 'carries what a gallery shows' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($nupkg)
        try {
            $entry = $zip.Entries | Where-Object FullName -EQ 'AosMail.nuspec'
            $reader = [IO.StreamReader]::new($entry.Open())
            [xml]$nuspec = $reader.ReadToEnd()
            $reader.Dispose()
            $files = @($zip.Entries.FullName)
        }
        finally { $zip.Dispose() }
        $meta = $nuspec.package.metadata
        $meta.id | Should -Be 'AosMail'
        $meta.version | Should -Be $version
        $meta.description | Should -Be $manifest.Description
        $meta.authors | Should -Be $manifest.Author
        $meta.releaseNotes | Should -Not -BeNullOrEmpty
        ($meta.licenseUrl, $meta.license.'#text' | Where-Object { $_ }) | Should -Not -BeNullOrEmpty
        foreach ($tag in 'AOS', 'Mail', 'PSEdition_Core', 'PSEdition_Desktop', 'PSModule') { $meta.tags -split ' ' | Should -Contain $tag }
        # The module folder, help and views included; no reference assembly of PowerShell itself.
        foreach ($file in 'AosMail.psd1', 'AosMail.dll', 'LICENSE', 'bin/AosMail.Engine.dll', 'AosMail.Format.ps1xml', 'en-US/AosMail.dll-Help.xml', 'en-US/about_AosMail.help.txt') {
            $files | Should -Contain $file
        }
        $files | Where-Object { $_ -like '*System.Management.Automation.dll' } | Should -BeNullOrEmpty
    }

    It 'installs with Save-PSResource from a file repository' {
        $saved.Name | Should -Be 'AosMail'
        [string]$saved.Version | Should -Be $version
        $installed | Should -Exist
    }

    It 'installs with Install-PSResource into a fresh user''s scope, and imports by name' -Skip:(-not $IsLinux -and -not $IsMacOS) {
        # A fresh HOME gives the child pwsh an empty CurrentUser scope and repository list, so
        # this installs exactly as a new user would, and touches nothing of this machine's.
        $home_ = Join-Path $work 'home'
        $null = New-Item -ItemType Directory -Force -Path $home_
        $savedHome = $env:HOME
        $env:HOME = $home_
        try {
            $result = Invoke-Installed @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name LocalAosMail -Uri '$packageDir' -Trusted
Install-PSResource -Name AosMail -Version '$version' -Repository LocalAosMail -Scope CurrentUser -TrustRepository
`$m = Import-Module AosMail -PassThru
[pscustomobject]@{ Version = [string]`$m.Version; Path = `$m.Path; Cmdlets = @(Get-Command -Module AosMail).Count } | ConvertTo-Json -Compress
"@
        }
        finally {
            $env:HOME = $savedHome
        }
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $info = ($result.Output.Trim() -split '\r?\n')[-1] | ConvertFrom-Json
        $info.Version | Should -Be $version
        $info.Path | Should -BeLike "$home_*"
        $info.Cmdlets | Should -Be $manifest.CmdletsToExport.Count
    }

    It 'imports from the installed copy in a fresh pwsh with its cmdlets, version, help and views' {
        $result = Invoke-Installed @"
`$ErrorActionPreference = 'Stop'
`$m = Import-Module '$installed' -PassThru
[pscustomobject]@{
    Version  = [string]`$m.Version
    Path     = `$m.Path
    Cmdlets  = @(Get-Command -Module AosMail | Sort-Object Name | ForEach-Object Name)
    Synopsis = (Get-Help Send-AosMessage).Synopsis
    Views    = @(Get-FormatData -TypeName AosMail.AosSendResult).Count
} | ConvertTo-Json -Compress
"@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $info = $result.Output | ConvertFrom-Json
        $info.Version | Should -Be $version
        $info.Path | Should -BeLike "$installRoot*"
        $info.Cmdlets | Should -Be @($manifest.CmdletsToExport | Sort-Object)
        $info.Synopsis | Should -Match 'AOS'
        $info.Views | Should -BeGreaterThan 0
    }
}

Describe 'The installed package against the sandbox' {
    It 'sends one message through the installed copy' {
        $result = Invoke-Installed @"
`$ErrorActionPreference = 'Stop'
Import-Module '$installed'
`$credential = [pscredential]::new(`$env:AOS_SANDBOX_USER, (ConvertTo-SecureString `$env:AOS_SANDBOX_PASSWORD -AsPlainText -Force))
`$r = Send-AosMessage -Server `$env:AOS_SANDBOX_URI -AllowUnencryptedAuthentication -Credential `$credential ``
    -To alice@sandbox.test -Subject 'Sent by the installed package' -Body 'Hello from the package.' -PassThru
`$r.ServerAnswer
"@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output.Trim() | Should -Be 'OK'
    }
}
