# Unattended use: a scheduled task or runbook has nobody to answer a prompt. In a non-interactive
# pwsh a missing credential is an error (never a wait), the README's task pattern gives exit codes
# a scheduler can act on, and its transcript holds no secret.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Module = $env:AOS_TEST_MODULE

    # The README's pattern, reduced to what the test controls: credential from the environment,
    # stop on the first error, an exit code per error id, a transcript.
    $script:TaskScript = Join-Path $TestDrive 'send-report.ps1'
    Set-Content -LiteralPath $TaskScript -Value @"
param([string] `$Transcript, [string] `$Subject)
`$ErrorActionPreference = 'Stop'
`$null = Start-Transcript -Path `$Transcript
try {
    Import-Module '$Module'
    `$credential = [pscredential]::new(`$env:AOS_USER, (ConvertTo-SecureString `$env:AOS_PASSWORD -AsPlainText -Force))
    Send-AosMessage -Server '$($Sandbox.BaseUri)' -AllowUnencryptedAuthentication -Credential `$credential ``
        -To alice@sandbox.test -Subject `$Subject -Body 'Nightly report' -PassThru -Verbose | Format-List | Out-String | Write-Output
    exit 0
}
catch {
    `$errorId = (`$_.FullyQualifiedErrorId -split ',')[0]
    Write-Output "Send failed: `$errorId - `$(`$_.Exception.Message)"
    switch (`$errorId) {
        'AosOutcomeUnknown'   { exit 3 }
        'AosConnectionFailed' { exit 4 }
        'AosServerRejected'   { exit 5 }
        default               { exit 1 }
    }
}
finally {
    `$null = Stop-Transcript
}
"@

    function Invoke-Task([string] $Password, [string] $Subject) {
        $transcript = Join-Path $TestDrive ([guid]::NewGuid().ToString('n') + '.log')
        $env:AOS_USER = $Sandbox.DemoUser
        $env:AOS_PASSWORD = $Password
        try {
            # 'exit N' inside a script ends only the script; pass its code on, as 'pwsh -File' does.
            $output = Invoke-ChildPwsh -Command "& '$TaskScript' -Transcript '$transcript' -Subject '$Subject'; exit `$LASTEXITCODE"
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | Out-String); Transcript = Get-Content -Raw -LiteralPath $transcript }
        }
        finally {
            Remove-Item Env:AOS_USER, Env:AOS_PASSWORD -ErrorAction Ignore
        }
    }
}

Describe 'Unattended use' {
    BeforeEach { Reset-Sandbox }

    It 'fails at once, without prompting, when -Credential is missing in a non-interactive host' {
        $elapsed = Measure-Command {
            $script:output = Invoke-ChildPwsh -Command @"
Import-Module '$Module'
try { Send-AosMessage -Server '$($Sandbox.BaseUri)' -AllowUnencryptedAuthentication -To alice@sandbox.test -Subject s -ErrorAction Stop; 'sent' }
catch { `$_.FullyQualifiedErrorId }
"@
        }
        ($output | Out-String) | Should -Match 'MissingMandatoryParameter,AosMail.Commands.SendAosMessageCommand'
        $elapsed.TotalSeconds | Should -BeLessThan 60
        @(Get-SandboxRequest).Count | Should -Be 0
    }

    It 'fails at once, without prompting for a password, when -Credential is only a user name' {
        $output = Invoke-ChildPwsh -Command @"
Import-Module '$Module'
try { New-AosSession -Server '$($Sandbox.BaseUri)' -AllowUnencryptedAuthentication -Credential demo@sandbox.test -ErrorAction Stop; 'logged in' }
catch { `$_.FullyQualifiedErrorId }
"@
        ($output | Out-String) | Should -Match 'ParameterArgumentTransformationError,AosMail.Commands.NewAosSessionCommand'
        @(Get-SandboxRequest).Count | Should -Be 0
    }

    It 'sends with exit code 0 and a transcript free of secrets' {
        $result = Invoke-Task -Password $Sandbox.DemoPassword -Subject 'Unattended OK'
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Transcript | Should -Match 'sdmailact'          # the verbose story is in the transcript...
        $result.Transcript | Should -Match 'ServerAnswer\s*:\s*OK'
        $result.Transcript.Contains($Sandbox.DemoPassword) | Should -BeFalse   # ...the secrets are not
        $result.Transcript | Should -Not -Match 'SID[A-Za-z0-9]{17}'
        @(Get-SandboxSpool | Where-Object { (Read-MimeMessage -Path $_.Path).Subject -eq 'Unattended OK' }).Count | Should -Be 1
    }

    It 'exits 1 on a failed login, naming AosLoginFailed, with no secret in the transcript' {
        $wrong = 'Wrong&Pass=word%+'
        $result = Invoke-Task -Password $wrong -Subject 'Unattended wrong password'
        $result.ExitCode | Should -Be 1
        $result.Output | Should -Match 'Send failed: AosLoginFailed'
        $result.Transcript | Should -Match 'AosLoginFailed'
        $result.Transcript.Contains($wrong) | Should -BeFalse
        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
    }

    It 'exits 3 when the outcome of the send is unknown, and the message is not sent twice' {
        Add-SandboxFault -Command sdmailact -Action dropAfter
        $result = Invoke-Task -Password $Sandbox.DemoPassword -Subject 'Unattended dropped'
        $result.ExitCode | Should -Be 3 -Because $result.Output
        $result.Output | Should -Match 'AosOutcomeUnknown'
        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 1
        @(Get-SandboxSpool).Count | Should -Be 1
    }
}
