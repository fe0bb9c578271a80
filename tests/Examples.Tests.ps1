# Every example of the help (docs/en-US/<Cmdlet>.md), every PowerShell block of the about_ topics
# and of README.md, run as written against a fresh sandbox (demo Inbox included) in a fresh pwsh
# (tests/ExampleRunner.ps1). Only the server and the credential are adapted: the addresses the
# text uses become the sandbox's (its https port with -SkipCertificateCheck, as its certificate is
# self-signed; the proxy a test proxy), Get-Credential answers with the account's password, and
# $HOME holds the credential files the examples' "Once, ..." comments tell the reader to make.
# An example fails on an error record, or when it produces nothing: no output, no "What if:",
# no message sent or saved, no session added or removed, no file written (a login alone is not enough).

BeforeDiscovery {
    $root = Join-Path $PSScriptRoot '..'
    function Get-CodeBlock {
        # The ```powershell blocks of a Markdown file, each with the heading it is under.
        param([string] $Path, [string] $From, [string] $To)
        $lines = Get-Content -LiteralPath $Path -Encoding utf8
        $inside = -not $From
        $heading = ''
        $block = $null
        foreach ($line in $lines) {
            if ($From -and $line -eq $From) { $inside = $true; $heading = $From.TrimStart('#', ' '); continue }
            if ($To -and $inside -and $line -eq $To) { break }
            if (-not $inside) { continue }
            if ($null -ne $block) {
                if ($line -eq '```') { [pscustomobject]@{ Title = $heading; Code = $block -join "`n" }; $block = $null }
                else { $block += $line }
            }
            elseif ($line -eq '```powershell') { $block = @() }
            elseif ($line -match '^#{2,3} (.+)') { $heading = $Matches[1] }
        }
    }

    $script:Pages = foreach ($file in Get-ChildItem -LiteralPath (Join-Path $root 'docs/en-US') -Filter *.md | Sort-Object Name) {
        $blocks = if ($file.BaseName -like 'about_*') { Get-CodeBlock -Path $file.FullName } else { Get-CodeBlock -Path $file.FullName -From '## Examples' -To '## Parameters' }
        $i = 0
        $examples = @(foreach ($b in $blocks) { $i++; @{ Index = $i; Title = $b.Title; Code = $b.Code; Page = $file.BaseName } })
        if ($examples.Count) { @{ Page = $file.BaseName; Examples = $examples } }
    }
    $i = 0
    $readme = @(foreach ($b in Get-CodeBlock -Path (Join-Path $root 'README.md') -From '## Usage' -To '## Cmdlets') {
            $i++; @{ Index = $i; Title = $b.Title; Code = $b.Code; Page = 'README' }
        })
    $script:Pages += @{ Page = 'README'; Examples = $readme }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:ProxyPassword = 'Pr0xy-Passw0rd'
    $script:Credentials = @{
        'demo@sandbox.test'  = $Sandbox.DemoPassword
        'alice@sandbox.test' = 'Alice-Passw0rd'
        'bob@sandbox.test'   = 'Bob-Passw0rd'
        'jane'               = 'Jane-Passw0rd'
        'jane@example.com'   = 'Jane-Passw0rd'
        'proxy-user'         = $ProxyPassword
    }
    $script:Proxy = Start-TestProxy -Credential ([pscredential]::new('proxy-user', (ConvertTo-SecureString -String $ProxyPassword -AsPlainText -Force)))
    $script:ModuleRoot = Split-Path -Parent (Split-Path -Parent $env:AOS_TEST_MODULE)

    function ConvertTo-SandboxExample {
        # The adaptation, and nothing else: the servers, the proxy and the module path of the text.
        param([string] $Code)
        $https = $Sandbox.HttpsBaseUri.TrimEnd('/')
        $Code.Replace('https://mail.example.com/cgi-bin/vo', "$https/cgi-bin/vo -SkipCertificateCheck").
            Replace('https://mail.example.com', "$https -SkipCertificateCheck").
            Replace('http://127.0.0.1:5080', $Sandbox.BaseUri.TrimEnd('/')).
            Replace('http://proxy.example.com:8080', $Proxy.Uri.GetLeftPart('Authority')).
            Replace('./out/AosMail/AosMail.psd1', $env:AOS_TEST_MODULE)
    }

    function Invoke-Example {
        # Runs examples in a fresh pwsh in $Work with HOME = $Home; returns the runner's results
        # (Sequence) or the exit code and output (-Single).
        param([object[]] $Examples, [string] $Work, [string] $HomePath, [switch] $Single)
        $cases = Join-Path $Work '.cases.json'
        $results = Join-Path $Work '.results.json'
        @{
            Credentials = $Credentials
            ControlUri  = "$($Sandbox.BaseUri.TrimEnd('/'))/_sandbox"
            Examples    = @($Examples | ForEach-Object { @{ Id = "$($_.Page) $($_.Index)"; Code = ConvertTo-SandboxExample $_.Code } })
        } | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $cases -Encoding utf8
        $saved = $env:HOME, $env:PSModulePath
        $env:HOME = $HomePath
        $env:PSModulePath = $ModuleRoot + [IO.Path]::PathSeparator + $env:PSModulePath
        Push-Location -LiteralPath $Work
        try {
            $runner = Join-Path $PSScriptRoot 'ExampleRunner.ps1'
            $output = Invoke-ChildPwsh -Command "& '$runner' -CasesPath '$cases' -ResultPath '$results'$(if ($Single) { ' -Single' })"
            $exitCode = $LASTEXITCODE
        }
        finally {
            Pop-Location
            $env:HOME, $env:PSModulePath = $saved
        }
        if ($Single) { return [pscustomobject]@{ ExitCode = $exitCode; Output = @($output) } }
        if (-not (Test-Path -LiteralPath $results)) { throw "The example runner wrote no results (exit code $exitCode):`n$($output -join "`n")" }
        $byId = @{}
        foreach ($result in Get-Content -Raw -LiteralPath $results | ConvertFrom-Json) { $byId[$result.Id] = $result }
        $byId
    }

    function Reset-ExampleSandbox {
        # A fresh sandbox with its demo Inbox, plus the account the real-server examples name (jane@example.com).
        Reset-Sandbox -DemoMail
        Add-SandboxUser -Name jane -Domain example.com -Password $Credentials['jane']
        $Proxy.Clear()
    }

    function New-ExampleHome {
        # $HOME with what the examples' "Once, as the account ...: Get-Credential ... | Export-Clixml" lines make.
        param([string] $Path, [string] $User = 'demo@sandbox.test')
        $null = New-Item -ItemType Directory -Path $Path -Force
        $credential = [pscredential]::new($User, (ConvertTo-SecureString -String $Credentials[$User] -AsPlainText -Force))
        foreach ($name in 'aos-sandbox.cred.xml', 'aos.cred.xml') { $credential | Export-Clixml -LiteralPath (Join-Path $Path $name) }
        $Path
    }
}

AfterAll {
    $Proxy | Stop-TestProxy
}

Describe 'The demo Inbox the examples read' {
    It 'holds four varied messages after a reset with -DemoMail, and none after a plain reset of this suite''s --no-demo-mail sandbox' {
        Reset-Sandbox -DemoMail
        Get-AosSession | Remove-AosSession
        $session = New-TestSession
        $list = @(Get-AosMessage -Session $session -Mailbox Inbox | Sort-Object Id)
        @($list.Subject) | Should -Be @('Welcome to the AOS sandbox', 'Quarterly report', 'Grüße aus München', 'Team lunch on Friday')
        @($list.IsRead) | Should -Be @($true, $false, $false, $false)
        $report = $list[1] | Get-AosMessage
        @($report.AttachmentNames) | Should -Be @('report.csv')
        ($list[2] | Get-AosMessage).HtmlBody | Should -BeLike '*<b>Grüße</b>*'
        $lunch = Read-MimeMessage -Path @(Get-SandboxMessage -User demo@sandbox.test -Mailbox Inbox)[3].Path
        @($lunch.Cc.Mailboxes.Address) | Should -Be @('alice@sandbox.test')
        Reset-Sandbox
        @(Get-SandboxMessage -User demo@sandbox.test -Mailbox Inbox).Count | Should -Be 0
        Get-AosSession | Remove-AosSession
    }
}

Describe 'The examples of <Page>' -ForEach $Pages {
    BeforeAll {
        Reset-ExampleSandbox
        $script:Work = New-Item -ItemType Directory -Path (Join-Path $TestDrive "$Page-work") -Force
        $script:HomePath = New-ExampleHome -Path (Join-Path $TestDrive "$Page-home")
        # An example that ends with 'exit' ends its process: it runs alone, the others in order.
        $script:Results = Invoke-Example -Examples @($Examples | Where-Object { $_.Code -notmatch '(?m)^\s*exit\b|\bexit \d' }) -Work $Work -HomePath $HomePath
    }

    It '<Index>: <Title>' -ForEach $Examples {
        if ($Code -match '(?m)^\s*exit\b|\bexit \d') {
            $before = @(Get-SandboxRequest -Command sdmailact).Count
            $run = Invoke-Example -Examples @($_) -Work $Work -HomePath $HomePath -Single
            $run.ExitCode | Should -Be 0 -Because ($run.Output -join "`n")
            @(Get-SandboxRequest -Command sdmailact).Count | Should -BeGreaterThan $before -Because 'the example sends a message'
            return
        }
        $result = $Results["$Page $Index"]
        $result | Should -Not -BeNullOrEmpty
        @($result.Errors) | Should -BeNullOrEmpty
        ($result.Output -gt 0 -or $result.WhatIf -gt 0 -or $result.Saved -gt 0 -or $result.SessionsChanged -or $result.FilesChanged) |
            Should -BeTrue -Because "an example shows or does something (output $($result.Output), What if $($result.WhatIf), saved $($result.Saved), requests $($result.Requests))"
    }
}
