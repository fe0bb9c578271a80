# Redaction: a session, a send, a failing send, a renewed session, a draft and a failed login,
# all with -Verbose -Debug, captured in every stream, a transcript, the error records and the
# objects in every usual rendering. Neither the password nor any session id may appear, and the
# verbose stream must still tell the story (so this test can fail for the right reason).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Password = $Sandbox.DemoPassword
    $script:Forbidden = @(
        $Password
        [uri]::EscapeDataString($Password)                          # S3cret%26Pass%3Dw0rd%25%2B
        [System.Net.WebUtility]::UrlEncode($Password)               # the + as %2B, & as %26 ...
        [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("demo|sandbox.test|$Password"))
    ) | Select-Object -Unique

    function Get-RenderedText {
        # Every usual way a user or a log could turn an object into text.
        param($Item)
        if ($null -eq $Item) { return }
        ($Item | Out-String)
        ($Item | Format-List * -Force | Out-String)
        "$Item"
        $Item.ToString()
        if ($Item -is [System.Management.Automation.ErrorRecord]) {
            $Item.Exception.Message
            ($Item.Exception | Format-List * -Force | Out-String)
            if ($Item.Exception.InnerException) { ($Item.Exception.InnerException | Format-List * -Force | Out-String) }
            "$($Item.TargetObject)"
            if ($Item.ErrorDetails) { $Item.ErrorDetails.Message }
        }
        elseif ($Item -is [System.Management.Automation.InformationalRecord]) {
            $Item.Message
        }
        else {
            try { $Item | ConvertTo-Json -Depth 5 -WarningAction SilentlyContinue } catch { "ConvertTo-Json failed: $_" }
            [System.Management.Automation.PSSerializer]::Serialize($Item, 3)
        }
    }
}

Describe 'Secrets' {
    BeforeEach {
        Reset-Sandbox
    }

    Describe 'No password and no session id anywhere' {
        It 'keeps them out of every stream, the transcript, the errors and the objects' {
            $transcript = Join-Path $TestDrive 'secrets-transcript.txt'
            $Error.Clear()
            $oldDebug = $DebugPreference
            $DebugPreference = 'Continue'
            $ErrorActionPreference = 'Continue'  # the failing sends write non-terminating errors; go on
            $null = Start-Transcript -Path $transcript
            try {
                $captured = @(& {
                        $session = New-AosSession -Server $Sandbox.BaseUri -Credential (New-TestCredential) -AllowUnencryptedAuthentication -Verbose -Debug
                        $session
                        Send-AosMessage -To 'alice@sandbox.test' -Subject 'secret test' -Body 'hello' -PassThru -Verbose -Debug
                        $null = Add-SandboxFault -Command sdmailact -Action text -Text "false`nrejected by policy"
                        Send-AosMessage -To 'alice@sandbox.test' -Subject 'will fail' -Body 'x' -Verbose -Debug
                        $null = Add-SandboxFault -Command sdmailact -Action expire
                        Send-AosMessage -To 'alice@sandbox.test' -Subject 'renewed' -Body 'x' -PassThru -Verbose -Debug
                        Save-AosDraft -To 'alice@sandbox.test' -Subject 'a draft' -Body 'x' -Verbose -Debug
                        try { New-AosSession -Server $Sandbox.BaseUri -Credential (New-TestCredential -Password "$($Password)x") -AllowUnencryptedAuthentication -Verbose -Debug }
                        catch { $_ }
                        $null = Add-SandboxFault -Command sdmailact -Action dropAfter
                        Send-AosMessage -To 'alice@sandbox.test' -Subject 'unknown outcome' -Body 'x' -Verbose -Debug
                    } *>&1)
            }
            finally {
                $null = Stop-Transcript
                $DebugPreference = $oldDebug
            }

            # The scenario did what it should, so there is something to look at.
            $sessions = @($captured | Where-Object { $_ -is [AosMail.AosSession] })
            $results = @($captured | Where-Object { $_ -is [AosMail.AosSendResult] })
            $errors = @($captured | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $verbose = @($captured | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
            $sessions.Count | Should -Be 1
            $results.Count | Should -Be 3
            $results[1].SessionRenewed | Should -BeTrue
            @($errors | Get-ErrorId) | Should -Be @('AosServerRejected', 'AosLoginFailed', 'AosOutcomeUnknown')
            @(Get-SandboxRequest -Command login).Count | Should -Be 3

            # The verbose stream tells the story: the command, the fields, the size.
            $story = ($verbose | ForEach-Object Message) -join "`n"
            $story | Should -Match 'sdmailact'
            $story | Should -Match '\bmto\b'
            $story | Should -Match '\d+ ?bytes'
            $story | Should -Match 'st\.login|login'

            # Everything, as text.
            $texts = [System.Collections.Generic.List[string]]::new()
            foreach ($item in $captured) { foreach ($t in Get-RenderedText $item) { $texts.Add([string]$t) } }
            foreach ($item in $Error) { foreach ($t in Get-RenderedText $item) { $texts.Add([string]$t) } }
            foreach ($item in $sessions + $results) { foreach ($t in Get-RenderedText $item) { $texts.Add([string]$t) } }
            $texts.Add((Get-Content -Raw -LiteralPath $transcript))
            $all = $texts -join "`n"
            $all.Length | Should -BeGreaterThan 2000
            $all | Should -Match 'demo@sandbox\.test' -Because 'the captured text is the real thing'

            foreach ($secret in $Forbidden) {
                $all.Contains($secret) | Should -BeFalse -Because "'$secret' must never be shown"
            }
            # Count them, and show where, masked: a failing run must not print the SIDs either.
            $sids = @([regex]::Matches($all, 'SID[A-Za-z0-9]{17}'))
            $where = @($sids | Select-Object -First 3 | ForEach-Object {
                    $from = [Math]::Max(0, $_.Index - 60)
                    ($all.Substring($from, $_.Index - $from) + '<SID>').Replace("`r", ' ').Replace("`n", ' ')
                }) -join ' | '
            $sids.Count | Should -Be 0 -Because "session ids must never be shown (found after: $where)"
        }

        It 'keeps them out of errors about a server address with user info, and out of answers that echo them' {
            $withUser = ([uri]$Sandbox.BaseUri).GetLeftPart('Scheme') + "jane:$([uri]::EscapeDataString($Password))@" + ([uri]$Sandbox.BaseUri).Authority + '/'
            $session = New-TestSession
            $captured = @(& {
                    try { New-AosSession -Server $withUser -Credential (New-TestCredential) -AllowUnencryptedAuthentication } catch { $_ }
                    try { Send-AosMessage -Server $withUser -Credential (New-TestCredential) -AllowUnencryptedAuthentication -To 'alice@sandbox.test' -Subject 'x' } catch { $_ }
                    $null = Add-SandboxFault -Command login -Action text -Text "wrong password $Password for demo"
                    try { New-AosSession -Server $Sandbox.BaseUri -Credential (New-TestCredential) -AllowUnencryptedAuthentication } catch { $_ }
                    $null = Add-SandboxFault -Command sdmailact -Action text -Text "false`nsession sid78889x23736345h80 ($Password) refused"
                    Send-AosMessage -Session $session -To 'alice@sandbox.test' -Subject 'echo' -Body 'x' -ErrorAction Continue
                } 2>&1)
            $errors = @($captured | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            @($errors | Get-ErrorId) | Should -Be @('AosInvalidServer', 'AosInvalidServer', 'AosLoginFailed', 'AosServerRejected')
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $errors[2].Exception.Message | Should -Match 'wrong password \u2026 for demo' -Because 'the answer is still quoted, with the password masked'

            $texts = foreach ($item in $errors) {
                Get-RenderedText $item
                "$($item.CategoryInfo)"
                $item.CategoryInfo.TargetName
            }
            $all = $texts -join "`n"
            foreach ($secret in $Forbidden + 'jane:') {
                $all.Contains($secret) | Should -BeFalse -Because "'$secret' must never be shown"
            }
            $all | Should -Not -Match '(?i)\bsid[a-z0-9]*[0-9][a-z0-9]*' -Because 'a session id echoed in lower case is masked too'
        }

        It 'shows neither in the session object however it is rendered' {
            $session = New-TestSession
            $text = @(
                ($session | Format-List * | Out-String)
                ($session | Format-Table * | Out-String)
                ($session | ConvertTo-Json -Depth 5)
                $session.ToString()
                [System.Management.Automation.PSSerializer]::Serialize($session, 5)
                ($session | Get-Member -Force | Out-String)
            ) -join "`n"
            $text | Should -Match 'demo@sandbox\.test'
            foreach ($secret in $Forbidden) { $text.Contains($secret) | Should -BeFalse }
            $text | Should -Not -Match 'SID[A-Za-z0-9]{17}'
            $text | Should -Not -Match '(?i)password|SecureString'
        }
    }
}
