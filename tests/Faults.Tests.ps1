# A misbehaving server and network (B13 to B15): an expired session is renewed once and the
# command repeated; a send that may have reached the server is reported as AosOutcomeUnknown
# and never repeated; faults before anything reached the server are retried and then reported.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function Get-Count {
        param([string] $Command)
        @(Get-SandboxRequest -Command $Command).Count
    }
}

Describe 'Faults' {
    BeforeEach {
        Reset-Sandbox
    }

    Describe 'Expired sessions' {
        BeforeEach {
            $script:Session = New-TestSession
        }

        It 'renews a session the server expired, repeats the send once, and the mail arrives once' {
            Add-SandboxFault -Command sdmailact -Action expire
            $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'after expiry' -Body 'x' -PassThru }
            $result.Errors.Count | Should -Be 0 -Because ($result.Errors | Out-String)
            $result.Output.Count | Should -Be 1
            $result.Output[0].SessionRenewed | Should -BeTrue
            $result.Output[0].ServerAnswer | Should -BeExactly 'OK'
            Get-Count login | Should -Be 2
            $sends = @(Get-SandboxRequest -Command sdmailact)
            $sends.Count | Should -Be 2
            (Format-FieldList $sends[1].Fields) | Should -BeExactly (Format-FieldList $sends[0].Fields) -Because 'the same form is repeated'
            @(Get-SandboxSpool).Count | Should -Be 1
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 1

            # The renewed session is kept: the next send needs no login.
            $next = Send-AosMessage -To 'alice@sandbox.test' -Subject 'next' -PassThru
            $next.SessionRenewed | Should -BeFalse
            Get-Count login | Should -Be 2
            @(Get-SandboxSpool).Count | Should -Be 2
        }

        It 'renews a session that idled out' {
            Set-SandboxOption -IdleSeconds 1
            Start-Sleep -Milliseconds 2500
            $r = Send-AosMessage -To 'alice@sandbox.test' -Subject 'after idling' -PassThru
            $r.SessionRenewed | Should -BeTrue
            Get-Count login | Should -Be 2
            Get-Count sdmailact | Should -Be 2
            @(Get-SandboxSpool).Count | Should -Be 1
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 1
        }

        It 'renews for a draft too, saving it once' {
            Add-SandboxFault -Command sdmailact -Action expire
            $r = Save-AosDraft -Subject 'draft after expiry'
            $r.SessionRenewed | Should -BeTrue
            Get-Count login | Should -Be 2
            @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Draft).Count | Should -Be 1
        }

        It 'renews a session the server forgot (a restarted server), and sends once' {
            Reset-Sandbox  # forgets every session, as a restart would
            $r = Send-AosMessage -To 'alice@sandbox.test' -Subject 'after restart' -PassThru
            $r.SessionRenewed | Should -BeTrue
            Get-Count login | Should -Be 1
            Get-Count sdmailact | Should -Be 2
            @(Get-SandboxSpool).Count | Should -Be 1
        }

        It 'renews once for parallel senders sharing the default session, each mail arriving once' {
            $module = $env:AOS_TEST_MODULE
            Add-SandboxFault -Command sdmailact -Action expire
            $all = @(1..8 | ForEach-Object -ThrottleLimit 4 -Parallel {
                    Import-Module $using:module
                    Send-AosMessage -To 'alice@sandbox.test' -Subject "parallel $_" -PassThru
                } 2>&1)
            $errs = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $out = @($all | Where-Object { $_ -is [AosMail.AosSendResult] })
            $errs.Count | Should -Be 0 -Because ($errs | Out-String)
            $out.Count | Should -Be 8
            @(Get-SandboxSpool).Count | Should -Be 8
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 8
            $story = (Get-SandboxRequest | ForEach-Object { '{0} {1} {2} {3}' -f $_.Seq, $_.Command, $_.Status, $_.Outcome }) -join '; '
            Get-Count login | Should -Be 2 -Because "one expiry needs one renewal, however many senders saw it ($story)"
            # Every sender whose request met the dead session was refused and repeated once; how many
            # met it depends on the interleaving (1 to the 4 in flight), but exactly 8 were accepted.
            $sends = @(Get-SandboxRequest -Command sdmailact)
            @($sends | Where-Object Outcome -EQ 'OK').Count | Should -Be 8
            $refused = @($sends | Where-Object Outcome -Like 'false: session expired*')
            $refused.Count | Should -BeIn (1..4)
            $sends.Count | Should -Be (8 + $refused.Count)
        }

        It 'renews only once: a session that expires again fails with AosSessionExpired' {
            Add-SandboxFault -Command sdmailact -Action expire -Times 2
            $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'twice' }
            Assert-OneError $result -ErrorId AosSessionExpired -Category AuthenticationError -MessageLike '*again right after the session was renewed*Nothing was sent*'
            Get-Count login | Should -Be 2
            Get-Count sdmailact | Should -Be 2
            @(Get-SandboxSpool).Count | Should -Be 0
        }
    }

    Describe 'A send whose outcome is unknown is never repeated' {
        BeforeEach {
            $script:Session = New-TestSession
        }

        It 'reports AosOutcomeUnknown when the connection drops after the server stored the mail' {
            Add-SandboxFault -Command sdmailact -Action dropAfter
            $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'dropped after' -PassThru }
            $result.Output.Count | Should -Be 0
            Assert-OneError $result -ErrorId AosOutcomeUnknown -Category ConnectionError -MessageLike '*outcome is unknown*not retried*'
            Get-Count sdmailact | Should -Be 1
            Get-Count login | Should -Be 1
            @(Get-SandboxSpool).Count | Should -Be 1
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 1
        }

        It 'reports AosOutcomeUnknown when the connection drops before the server acted (the client cannot tell)' {
            Add-SandboxFault -Command sdmailact -Action dropBefore
            $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'dropped before' }
            Assert-OneError $result -ErrorId AosOutcomeUnknown -Category ConnectionError -MessageLike '*outcome is unknown*not retried*'
            Get-Count sdmailact | Should -Be 1
            @(Get-SandboxSpool).Count | Should -Be 0
        }

        It 'reports AosOutcomeUnknown on a 503 and does not repeat the send' {
            Add-SandboxFault -Command sdmailact -Action status -StatusCode 503 -Text 'busy'
            $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'busy' }
            Assert-OneError $result -ErrorId AosOutcomeUnknown -Category ConnectionError -MessageLike '*503*'
            Get-Count sdmailact | Should -Be 1
            @(Get-SandboxSpool).Count | Should -Be 0
        }

        It 'reports AosOutcomeUnknown (OperationTimeout) when the answer is later than -TimeoutSec, and sends once' {
            $null = New-TestSession -TimeoutSec 1
            Get-Count login | Should -Be 2
            Add-SandboxFault -Command sdmailact -Action delay -DelayMs 4000
            $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'slow' }
            Assert-OneError $result -ErrorId AosOutcomeUnknown -Category OperationTimeout -MessageLike '*no answer within 1 s*'
            $result.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9
            $result.Elapsed.TotalSeconds | Should -BeLessThan 3.5
            Get-Count sdmailact | Should -Be 1
            # The sandbox acts after the delay only while the client still waits; this client gave up
            # (the connection was aborted), so the sandbox dropped the request and stored nothing.
            Start-Sleep -Milliseconds 4000
            @(Get-SandboxSpool).Count | Should -Be 0
            @(Get-SandboxRequest -Command sdmailact)[0].Outcome | Should -BeExactly 'dropped'
            Get-Count sdmailact | Should -Be 1
        }
    }

    Describe 'Failures before anything reached the server' {
        It 'fails a login answered with 503 cleanly' {
            Add-SandboxFault -Command login -Action status -StatusCode 503 -Text 'maintenance' -Times 20
            $result = Invoke-Captured { New-AosSession -Server $Sandbox.BaseUri -Credential (New-TestCredential) -AllowUnencryptedAuthentication }
            $result.Output.Count | Should -Be 0
            $result.Errors.Count | Should -Be 1
            $id = $result.Errors[0] | Get-ErrorId
            $id | Should -BeIn 'AosLoginFailed', 'AosConnectionFailed'
            Write-Host "    (a 503 on login gives $id, category $($result.Errors[0].CategoryInfo.Category), after $(Get-Count login) login request(s))"
            $result.Errors[0].Exception.Message | Should -BeLike '*503*'
            Get-Count login | Should -BeGreaterOrEqual 1
            Get-Count login | Should -BeLessOrEqual 5
        }

        It 'fails with AosConnectionFailed, quickly, when nobody listens' {
            $port = Get-FreeLocalPort
            $result = Invoke-Captured { New-AosSession -Server "http://127.0.0.1:$port" -Credential (New-TestCredential) -AllowUnencryptedAuthentication }
            $result.Output.Count | Should -Be 0
            Assert-OneError $result -ErrorId AosConnectionFailed -Category ConnectionError -MessageLike "*127.0.0.1:$port*Nothing was sent*"
            $result.Elapsed.TotalSeconds | Should -BeLessThan 15
        }

        It 'fails a one-shot send with AosConnectionFailed when nobody listens' {
            $port = Get-FreeLocalPort
            $result = Invoke-Captured {
                Send-AosMessage -Server "http://127.0.0.1:$port" -Credential (New-TestCredential) -AllowUnencryptedAuthentication -To 'alice@sandbox.test' -Subject 'x'
            }
            Assert-OneError $result -ErrorId AosConnectionFailed -Category ConnectionError -MessageLike "*127.0.0.1:$port*Nothing was sent*"
            $result.Elapsed.TotalSeconds | Should -BeLessThan 15
            @(Get-SandboxRequest).Count | Should -Be 0
        }
    }

    Describe 'Stopping (Ctrl+C)' {
        # Both ways the pipeline thread waits: on the work itself (nothing to pump) and on the
        # queue of Verbose lines.
        It 'stops a send waiting on a slow server within moments<_>' -ForEach @('', ' -Verbose') {
            Add-SandboxFault -Command sdmailact -Action delay -DelayMs 15000
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript(@"
Import-Module '$($env:AOS_TEST_MODULE)'
`$cred = [pscredential]::new(`$env:AOS_SANDBOX_USER, (ConvertTo-SecureString `$env:AOS_SANDBOX_PASSWORD -AsPlainText -Force))
`$session = New-AosSession -Server '$($Sandbox.BaseUri)' -Credential `$cred -AllowUnencryptedAuthentication
'logged in'
Send-AosMessage -Session `$session -To bob@sandbox.test -Subject slow -Body x$_
'not stopped'
"@)
                $output = [System.Management.Automation.PSDataCollection[object]]::new()
                $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[object]]::new(), $output)
                $deadline = [datetime]::UtcNow.AddSeconds(20)
                while ($output -notcontains 'logged in' -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
                Start-Sleep -Milliseconds 700   # the send is in flight, held by the server
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $ps.Stop()
                $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                $output | Should -Not -Contain 'not stopped'
            }
            finally {
                $ps.Dispose()
            }
        }
    }
}
