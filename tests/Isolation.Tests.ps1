# Dependency isolation (PowerShell 7): another module's MimeKit already in the session must not
# stop AosMail from sending, and AosMail must not break that module. Each scenario runs in a fresh
# pwsh, since loaded assemblies never unload.
BeforeDiscovery {
    $script:IsCore = $PSVersionTable.PSEdition -eq 'Core'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function Invoke-ChildJson([string] $Script) {
        $output = @(Invoke-ChildPwsh -Command $Script)
        if ($LASTEXITCODE -ne 0) { throw "child pwsh failed ($LASTEXITCODE):`n$($output -join "`n")" }
        $output[-1] | ConvertFrom-Json
    }

    # A stand-in assembly named MimeKit, version 1.0.0.0, as another module would bring. Compiled
    # with the Roslyn that ships in pwsh (Add-Type would give it a random assembly name), in a
    # child process so this test process never loads it.
    $script:StandIn = Join-Path $TestDrive 'other-module/MimeKit.dll'
    $null = New-Item -ItemType Directory -Force (Split-Path $StandIn)
    $null = Invoke-ChildJson @"
`$null = Add-Type -AssemblyName Microsoft.CodeAnalysis.CSharp -PassThru
`$code = '[assembly: System.Reflection.AssemblyVersion("1.0.0.0")] namespace MimeKit { public static class StandIn { public static string Hello() { return "stand-in says hello"; } } }'
`$runtime = [IO.Path]::GetDirectoryName([object].Assembly.Location)
`$references = [Microsoft.CodeAnalysis.MetadataReference[]]@(
    [Microsoft.CodeAnalysis.MetadataReference]::CreateFromFile([object].Assembly.Location),
    [Microsoft.CodeAnalysis.MetadataReference]::CreateFromFile((Join-Path `$runtime 'System.Runtime.dll')))
`$compilation = [Microsoft.CodeAnalysis.CSharp.CSharpCompilation]::Create('MimeKit',
    [Microsoft.CodeAnalysis.SyntaxTree[]]@([Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree]::ParseText(`$code)), `$references,
    [Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions]::new([Microsoft.CodeAnalysis.OutputKind]::DynamicallyLinkedLibrary))
`$emitted = [Microsoft.CodeAnalysis.FileSystemExtensions]::Emit(`$compilation, '$StandIn')
@{ Success = `$emitted.Success; Diagnostics = @(`$emitted.Diagnostics | ForEach-Object ToString) } | ConvertTo-Json -Compress
"@ | ForEach-Object { if (-not $_.Success) { throw "The stand-in MimeKit did not compile: $($_.Diagnostics -join '; ')" } }

    $script:Attachment = Join-Path $TestDrive 'figures.bin'
    $script:AttachmentBytes = [byte[]]::new(20000)
    [Random]::new(7).NextBytes($AttachmentBytes)
    [IO.File]::WriteAllBytes($Attachment, $AttachmentBytes)

    $script:Common = @"
`$ErrorActionPreference = 'Stop'
function Send([string] `$subject) {
    `$cred = [pscredential]::new(`$env:AOS_SANDBOX_USER, (ConvertTo-SecureString `$env:AOS_SANDBOX_PASSWORD -AsPlainText -Force))
    (Send-AosMessage -Server '$($env:AOS_SANDBOX_URI)' -Credential `$cred -AllowUnencryptedAuthentication -To alice@sandbox.test ``
        -Subject `$subject -Body '<p>isolated</p>' -BodyAsHtml -Attachments '$Attachment' -PassThru).ServerAnswer
}
function MimeKits {
    @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -in 'MimeKit', 'AosMail.MimeKit' } | ForEach-Object {
        @{ Name = `$_.GetName().Name; Version = `$_.GetName().Version.ToString(); Context = [Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).GetType().Name }
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
        $result = Invoke-ChildJson @"
Import-Module '$($env:AOS_TEST_MODULE)'
@{ Loaded = @([AppDomain]::CurrentDomain.GetAssemblies().GetName().Name | Where-Object { `$_ -in 'AosMail.Engine', 'MimeKit', 'AosMail.MimeKit', 'BouncyCastle.Cryptography' }) } | ConvertTo-Json -Compress
"@
        @($result.Loaded) | Should -BeNullOrEmpty
    }

    It 'sends HTML with an attachment when another MimeKit was loaded first, and the other one keeps working' {
        $result = Invoke-ChildJson @"
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
        $kits[1].Name | Should -Be 'AosMail.MimeKit'
        $kits[1].Context | Should -Be 'IsolatedLoadContext'
        Assert-Delivered 'isolation: other first'
    }

    It 'leaves the other loader working when AosMail came first' {
        $result = Invoke-ChildJson @"
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
