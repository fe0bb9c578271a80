# Send-AosMessage -ThrottleLimit against a sandbox that stands in for a far-away server
# (--latency-ms): requests in flight at once, results and errors in input order, each row sent
# at most once and ending with exactly one result or error, one login when the session expires
# under load, and Ctrl+C naming the rows that may have gone.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Import-MimeKit

    function New-Rows {
        param([int] $Count, [string] $Prefix, [string] $To = 'bob@sandbox.test')
        1..$Count | ForEach-Object { [pscustomobject]@{ To = $To; Subject = '{0} {1:D3}' -f $Prefix, $_; Body = "row $_" } }
    }
}

Describe 'Send-AosMessage -ThrottleLimit' {
    BeforeEach {
        Reset-Sandbox
        $null = New-TestSession
    }

    It 'keeps up to 8 requests in flight and writes results and errors in input order, a bad row in its place' {
        $null = Set-SandboxOption -LatencyMs 200
        # The first three requests are held longer, so later rows finish first.
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 700 -Times 3
        $rows = @(New-Rows -Count 24 -Prefix 'order' -To 'alice@sandbox.test')
        $rows[11].To = 'not-an-address'

        $all = @($rows | Send-AosMessage -ThrottleLimit 8 -PassThru -ErrorAction Continue 2>&1)

        $all.Count | Should -Be 24
        for ($i = 0; $i -lt 24; $i++) {
            if ($i -eq 11) {
                $all[$i] | Should -BeOfType ([System.Management.Automation.ErrorRecord])
                $all[$i] | Get-ErrorId | Should -BeExactly 'AosInvalidAddress'
                [object]::ReferenceEquals($all[$i].TargetObject, $rows[11]) | Should -BeTrue
            }
            else {
                $all[$i].Subject | Should -BeExactly $rows[$i].Subject -Because "result $i is in input order"
            }
        }

        # Concurrency, seen by the server: how many requests it held at once.
        $sends = @(Get-SandboxRequest -Command sdmailact)
        $sends.Count | Should -Be 23
        $events = foreach ($send in $sends) {
            $start = ([datetimeoffset]$send.Time).UtcTicks
            [pscustomobject]@{ At = $start; Step = 1 }
            [pscustomobject]@{ At = $start + [long]($send.DurationMs * 10000); Step = -1 }
        }
        $inFlight = 0; $most = 0
        foreach ($event in $events | Sort-Object At, Step) { $inFlight += $event.Step; $most = [math]::Max($most, $inFlight) }
        $most | Should -BeGreaterOrEqual 4
        $most | Should -BeLessOrEqual 8
        Get-SpooledSubject | Sort-Object | Should -Be @($rows.Subject | Where-Object { $_ -ne 'order 012' } | Sort-Object)
    }

    It 'writes a row''s warning in its place, after the results of the rows before it' {
        $null = Set-SandboxOption -LatencyMs 300
        $logo = New-RandomFile -Path (Join-Path $TestDrive 'logo.png') -Size 200
        $rows = @(1..4 | ForEach-Object { [pscustomobject]@{ To = 'bob@sandbox.test'; Subject = "inline $_"; Body = '<p><img src="cid:logo"></p>' } })
        $rows[2].Body = '<p>no image here</p>'

        $all = @($rows | Send-AosMessage -ThrottleLimit 4 -BodyAsHtml -InlineAttachments @{ logo = $logo } -PassThru 3>&1)

        $all.Count | Should -Be 5
        @($all | ForEach-Object { if ($_ -is [System.Management.Automation.WarningRecord]) { 'warning' } else { $_.Subject } }) |
            Should -Be @('inline 1', 'inline 2', 'warning', 'inline 3', 'inline 4')
        "$($all[2])" | Should -BeLike "*'logo' is not referred to*"
    }

    It 'sends 500 rows exactly once with 16 in flight while the session expires and the server misbehaves, logging in again once' {
        $null = Set-SandboxOption -LatencyMs 20
        # Faults fire in the order requests arrive; no-op delays space them out over the run.
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 0 -Times 100
        Add-SandboxFault -Command sdmailact -Action dropAfter
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 0 -Times 100
        Add-SandboxFault -Command sdmailact -Action expire
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 0 -Times 100
        Add-SandboxFault -Command sdmailact -Action status -StatusCode 503 -Text 'busy'
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 0 -Times 50
        Add-SandboxFault -Command sdmailact -Action dropBefore
        $rows = @(New-Rows -Count 500 -Prefix 'once')

        $all = @($rows | Send-AosMessage -ThrottleLimit 16 -PassThru -ErrorAction Continue 2>&1)

        # Every row ends with exactly one result or one error, in input order.
        $all.Count | Should -Be 500
        for ($i = 0; $i -lt 500; $i++) {
            $subject = if ($all[$i] -is [System.Management.Automation.ErrorRecord]) { $all[$i].TargetObject.Subject } else { $all[$i].Subject }
            $subject | Should -BeExactly $rows[$i].Subject
        }
        $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $errors.Count | Should -Be 3 -Because ($errors | Out-String)
        $errors | ForEach-Object { $_ | Get-ErrorId } | Should -Be @('AosOutcomeUnknown', 'AosOutcomeUnknown', 'AosOutcomeUnknown')
        $confirmed = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
        @($confirmed | Where-Object SessionRenewed).Count | Should -BeGreaterOrEqual 1

        # No row twice: the confirmed rows once each, plus the one the server stored before dropping its answer.
        $stored = Get-SpooledSubject
        @($stored | Sort-Object -Unique).Count | Should -Be $stored.Count
        $stored.Count | Should -Be ($confirmed.Count + 1)
        $confirmed.Subject | Where-Object { $stored -notcontains $_ } | Should -BeNullOrEmpty
        @(Get-SandboxMessage -User 'bob@sandbox.test' -Mailbox Inbox).Count | Should -Be $stored.Count
        # One expiry, however many requests in flight met it: exactly one more login.
        @(Get-SandboxRequest -Command login).Count | Should -Be 2
    }

    It 'sends nothing with -WhatIf' {
        $rows = @(New-Rows -Count 10 -Prefix 'whatif')
        $rows | Send-AosMessage -ThrottleLimit 8 -WhatIf
        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
    }

    It 'refuses a -ThrottleLimit outside 1 to 64 before sending anything' {
        { New-Rows -Count 2 -Prefix 'limit' | Send-AosMessage -ThrottleLimit 65 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,AosMail.Commands.SendAosMessageCommand'
        { New-Rows -Count 2 -Prefix 'limit' | Send-AosMessage -ThrottleLimit 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,AosMail.Commands.SendAosMessageCommand'
        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
    }

    It 'on Ctrl+C cancels the requests in flight, sends no further row, and names each row that may have gone' -Skip:(-not $IsLinux) {
        # A real Ctrl+C: SIGINT to a pwsh that runs the pipeline (Linux: the signal Ctrl+C sends).
        $null = Set-SandboxOption -LatencyMs 600
        $script = @"
`$PSStyle.OutputRendering = 'PlainText'
Import-Module '$($env:AOS_TEST_MODULE)'
`$cred = [pscredential]::new(`$env:AOS_SANDBOX_USER, (ConvertTo-SecureString `$env:AOS_SANDBOX_PASSWORD -AsPlainText -Force))
`$null = New-AosSession -Server '$($Sandbox.BaseUri)' -Credential `$cred -AllowUnencryptedAuthentication
1..40 | ForEach-Object { [pscustomobject]@{ To = 'bob@sandbox.test'; Subject = ('stop {0:D2}' -f `$_); Body = 'x' } } |
    Send-AosMessage -ThrottleLimit 4 -PassThru | ForEach-Object { 'sent: ' + `$_.Subject }
"@
        $file = Join-Path $TestDrive 'stop.ps1'
        Set-Content -LiteralPath $file -Value $script
        # Through env --default-signal: a process started in the background (nohup, a CI step, a
        # shell loop with `&`) inherits SIGINT as ignored, and .NET keeps an ignored SIGINT ignored,
        # so without this the child would never see the Ctrl+C when the suite itself runs unattended.
        $start = [Diagnostics.ProcessStartInfo]::new('env')
        foreach ($argument in '--default-signal=INT', [Environment]::ProcessPath) { $start.ArgumentList.Add($argument) }
        if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $start.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($argument in '-NoProfile', '-NonInteractive', '-File', $file) { $start.ArgumentList.Add($argument) }
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $child = [Diagnostics.Process]::Start($start)
        try {
            $stdout = $child.StandardOutput.ReadToEndAsync()
            $stderr = $child.StandardError.ReadToEndAsync()
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while (@(Get-SandboxRequest -Command sdmailact).Count -lt 10 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            & kill -s INT $child.Id
            $child.WaitForExit(30000) | Should -BeTrue -Because 'Ctrl+C ends the pipeline promptly'
            $lines = @($stdout.Result -split "`r?`n" | Where-Object { $_ })
            $sent = @($lines | Where-Object { $_ -like 'sent: *' } | ForEach-Object { $_.Substring(6) })
            $warned = @($lines | Where-Object { $_ -like 'WARNING: Send-AosMessage was stopped: row *' })
            Start-Sleep -Milliseconds 1500   # anything still on its way would arrive now

            $sent.Count | Should -BeGreaterOrEqual 4 -Because "rows were sent before the stop ($($stdout.Result) $($stderr.Result))"
            $sent.Count | Should -BeLessThan 40
            $warned.Count | Should -BeGreaterOrEqual 1 -Because "requests were in flight when it stopped: $($stdout.Result)"
            $warned.Count | Should -BeLessOrEqual 4
            $warnedSubjects = @($warned | ForEach-Object { if ($_ -match "row (\d+) \('(stop \d+)' to bob@sandbox\.test\) (was sent|may have been sent)") { $Matches[2] } })
            $warnedSubjects.Count | Should -Be $warned.Count -Because ($warned -join "`n")
            # Every row the server stored was reported: by its result or by a warning. None went after the stop.
            $stored = Get-SpooledSubject
            $sent | Where-Object { $stored -notcontains $_ } | Should -BeNullOrEmpty
            $stored | Where-Object { $sent -notcontains $_ -and $warnedSubjects -notcontains $_ } | Should -BeNullOrEmpty
            $stored.Count | Should -BeLessOrEqual ($sent.Count + $warned.Count)
            @(Get-SandboxRequest -Command sdmailact).Count | Should -BeLessOrEqual ($sent.Count + 4)
        }
        finally {
            if (-not $child.HasExited) { $child.Kill() }
            $child.Dispose()
        }
    }
}
