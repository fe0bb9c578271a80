# Dependency isolation (PowerShell 7): another module's MimeKit already in the session must not
# stop AosMail from sending, and AosMail must not break that module. Each scenario runs in a fresh
# pwsh, since loaded assemblies never unload.
BeforeDiscovery {
    $script:IsCore = $PSVersionTable.PSEdition -eq 'Core'
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1')

    function Invoke-ChildPwsh([string] $Script) {
        # Under the dotnet tool, the process is dotnet running pwsh.dll; elsewhere it is pwsh itself.
        $host_ = [Environment]::ProcessPath
        $prefix = if ([IO.Path]::GetFileNameWithoutExtension($host_) -eq 'dotnet') { @(Join-Path $PSHOME 'pwsh.dll') } else { @() }
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Script))
        $output = & $host_ @prefix -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1
        if ($LASTEXITCODE -ne 0) { throw "child pwsh failed ($LASTEXITCODE):`n$($output -join "`n")" }
        ($output | Select-Object -Last 1) | ConvertFrom-Json
    }

    # A stand-in assembly named MimeKit, version 1.0.0.0, as another module would bring. Compiled in
    # a child process so this test process never loads it.
    $script:StandIn = Join-Path $TestDrive 'other-module/MimeKit.dll'
    $null = New-Item -ItemType Directory -Force (Split-Path $StandIn)
    $source = '[assembly: System.Reflection.AssemblyVersion(\"1.0.0.0\")] namespace MimeKit { public static class StandIn { public static string Hello() { return \"stand-in says hello\"; } } }'
    $null = Invoke-ChildPwsh "Add-Type -TypeDefinition '$source' -OutputAssembly '$StandIn' -OutputType Library; '{}'"

    $script:Attachment = Join-Path $TestDrive 'figures.bin'
    $script:AttachmentBytes = [byte[]]::new(20000)
    [Random]::new(7).NextBytes($AttachmentBytes)
    [IO.File]::WriteAllBytes($Attachment, $AttachmentBytes)

    $script:Common = @"
`$ErrorActionPreference = 'Stop'
function Send([string] `$subject) {
    `$cred = [pscredential]::new('$($env:AOS_SANDBOX_USER)', (ConvertTo-SecureString '$($env:AOS_SANDBOX_PASSWORD -replace "'", "''")' -AsPlainText -Force))
    (Send-AosMessage -Server '$($env:AOS_SANDBOX_URI)' -Credential `$cred -AllowUnencryptedAuthentication -To alice@sandbox.test ``
        -Subject `$subject -Body '<p>isolated</p>' -BodyAsHtml -Attachments '$Attachment' -PassThru).ServerAnswer
}
function MimeKits {
    @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'MimeKit' } | ForEach-Object {
        @{ Version = `$_.GetName().Version.ToString(); Context = [Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).GetType().Name }
    })
}
"@

    function Assert-Delivered([string] $Subject) {
        $stored = @(Get-SandboxMessage -User alice@sandbox.test -Mailbox Inbox | ForEach-Object { Read-MimeMessage -Path $_.Path } |
            Where-Object Subject -eq $Subject)
        $stored.Count | Should -Be 1
        $stored[0].HtmlBody | Should -Match '<p>isolated</p>'
        $part = @($stored[0].Attachments)[0]
        $part.FileName | Should -Be 'figures.bin'
        $copy = [IO.MemoryStream]::new()
        $part.Content.DecodeTo($copy)
        [Convert]::ToBase64String($copy.ToArray()) | Should -Be ([Convert]::ToBase64String($AttachmentBytes))
    }
}

Describe 'Dependency isolation' -Skip:(-not $IsCore) {
    BeforeEach { Reset-Sandbox }

    It 'imports without loading the engine or MimeKit' {
        $result = Invoke-ChildPwsh @"
Import-Module '$($env:AOS_TEST_MODULE)'
@{ Loaded = @([AppDomain]::CurrentDomain.GetAssemblies().GetName().Name | Where-Object { `$_ -in 'AosMail.Engine', 'MimeKit', 'BouncyCastle.Cryptography' }) } | ConvertTo-Json -Compress
"@
        @($result.Loaded) | Should -BeNullOrEmpty
    }

    It 'sends HTML with an attachment when another MimeKit was loaded first, and the other one keeps working' {
        $result = Invoke-ChildPwsh @"
$Common
Add-Type -Path '$StandIn'
Import-Module '$($env:AOS_TEST_MODULE)'
`$answer = Send 'isolation: other first'
@{ Answer = `$answer; StandIn = [MimeKit.StandIn]::Hello(); MimeKits = MimeKits } | ConvertTo-Json -Compress -Depth 4
"@
        $result.Answer | Should -Be 'OK'
        $result.StandIn | Should -Be 'stand-in says hello'
        $kits = @($result.MimeKits | Sort-Object Version)
        $kits.Count | Should -Be 2
        $kits[0].Version | Should -Be '1.0.0.0'
        $kits[0].Context | Should -Be 'DefaultAssemblyLoadContext'
        $kits[1].Version | Should -BeLike '4.18.*'
        $kits[1].Context | Should -Be 'IsolatedLoadContext'
        Assert-Delivered 'isolation: other first'
    }

    It 'leaves the other loader working when AosMail came first' {
        $result = Invoke-ChildPwsh @"
$Common
Import-Module '$($env:AOS_TEST_MODULE)'
`$first = Send 'isolation: aosmail first'
Add-Type -Path '$StandIn'
`$second = Send 'isolation: aosmail again'
@{ Answers = @(`$first, `$second); StandIn = [MimeKit.StandIn]::Hello(); MimeKits = MimeKits } | ConvertTo-Json -Compress -Depth 4
"@
        $result.Answers | Should -Be @('OK', 'OK')
        $result.StandIn | Should -Be 'stand-in says hello'
        @($result.MimeKits).Count | Should -Be 2
        Assert-Delivered 'isolation: aosmail first'
        Assert-Delivered 'isolation: aosmail again'
    }
}
