# Settling a send of unknown outcome against the Outbox (docs/aos-protocol.md B25): with -KeepCopy,
# a send whose answer was lost is looked for in the Outbox; found, it is sent (a result says it was
# settled); not found after every look, it was not sent (AosNotSent, or sent once more with
# -RetryUnknown); identical copies leave it unknown with the reason. Without -KeepCopy, nothing changes
# but the message. The bulk and crash cases are in SettleBulk.Tests.ps1.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function Get-Count([string] $Command, $Requests) {
        @($Requests | Where-Object Command -EQ $Command).Count
    }

    function Read-Journal([string] $Path) {
        Get-Content -LiteralPath $Path | ForEach-Object { $_ | ConvertFrom-Json -DateKind String }
    }
}

Describe 'Settling against the Outbox' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    It 'settles a send whose answer was lost after the server acted (<Action>): sent once, a result saying so, one listing' -TestCases @(
        @{ Action = 'dropAfter'; Status = 0 }
        @{ Action = 'dropMidAnswer'; Status = 0 }
        @{ Action = 'statusAfter'; Status = 503 }
    ) {
        if ($Status) { Add-SandboxFault -Command sdmailact -Action $Action -StatusCode $Status -Text 'busy' }
        else { Add-SandboxFault -Command sdmailact -Action $Action }
        $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject "lost answer $Action" -Body 'hello' -KeepCopy -PassThru }
        $result.Errors.Count | Should -Be 0 -Because ($result.Errors | Out-String)
        $result.Output.Count | Should -Be 1
        $outbox = @(Get-SandboxMessage -User $env:AOS_SANDBOX_USER -Mailbox Outbox)
        $outbox.Count | Should -Be 1
        $result.Output[0].SettledAs | Should -BeExactly $outbox[0].Id
        $result.Output[0].ServerAnswer | Should -BeExactly "settled: found in the Outbox as $($outbox[0].Id)"
        @(Get-SandboxSpool).Count | Should -Be 1
        Get-Count sdmailact $result.Requests | Should -Be 1 -Because 'a send is never repeated once it may have reached the server'
        $lists = @($result.Requests | Where-Object Command -EQ openbox)
        $lists.Count | Should -Be 1 -Because 'the copy is there at the first look'
        Assert-FieldList $lists[0] @(@('api', 'lc'), @('mbox', 'Outbox'), @('LCTop', '500'))
        Get-Count rdmail $result.Requests | Should -Be 1
    }

    It 'reports a send the server never acted on as AosNotSent after four looks over 7 s, and does not send it again' {
        Add-SandboxFault -Command sdmailact -Action status -StatusCode 503 -Text 'busy'
        $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'never acted on' -Body 'hello' -KeepCopy -PassThru }
        Assert-OneError $result AosNotSent ConnectionError -MessageLike "*503*no copy of it is in 'Outbox' after 4 looks over 7 s, so it was not sent*-RetryUnknown*"
        $result.Output.Count | Should -Be 0
        @(Get-SandboxSpool).Count | Should -Be 0
        Get-Count sdmailact $result.Requests | Should -Be 1
        Get-Count openbox $result.Requests | Should -Be 4
        $result.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 7
    }

    It '-RetryUnknown sends a row the Outbox shows was not sent exactly once more' {
        Add-SandboxFault -Command sdmailact -Action status -StatusCode 503 -Text 'busy' -Times 2
        $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'twice refused' -Body 'hello' -KeepCopy -RetryUnknown -PassThru }
        # Both attempts failed without acting: one resend, then reported, never a third attempt.
        Assert-OneError $result AosNotSent ConnectionError
        Get-Count sdmailact $result.Requests | Should -Be 2
        @(Get-SandboxSpool).Count | Should -Be 0

        Add-SandboxFault -Command sdmailact -Action status -StatusCode 503 -Text 'busy'
        $again = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'once refused' -Body 'hello' -KeepCopy -RetryUnknown -PassThru }
        $again.Errors.Count | Should -Be 0 -Because ($again.Errors | Out-String)
        $again.Output[0].ServerAnswer | Should -BeExactly 'OK'
        $again.Output[0].SettledAs | Should -BeNullOrEmpty
        Get-Count sdmailact $again.Requests | Should -Be 2
        @(Get-SandboxSpool).Count | Should -Be 1
    }

    It 'leaves identical rows unknown, with the reason, when both copies are in the Outbox' {
        # Row 2's answer is lost; both rows were stored, and plain identical rows cannot be told apart.
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 0
        Add-SandboxFault -Command sdmailact -Action dropAfter
        $rows = 1..2 | ForEach-Object { [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'same'; Body = 'same body' } }
        $result = Invoke-Captured { $rows | Send-AosMessage -KeepCopy -PassThru }
        Assert-OneError $result AosOutcomeUnknown ConnectionError -MessageLike "*could not settle it:*identical*cannot be told apart*"
        $result.Output.Count | Should -Be 1
        @(Get-SandboxSpool).Count | Should -Be 2
    }

    It 'never takes the copy of an identical row of the same run for a row that was not sent' {
        # Row 1 is sent; row 2, identical, is refused with a 503 before the server acts: the one copy
        # in the Outbox is row 1's, so row 2 is not settled as sent.
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 0
        Add-SandboxFault -Command sdmailact -Action status -StatusCode 503 -Text 'busy'
        $rows = 1..2 | ForEach-Object { [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'same'; Body = 'same body' } }
        $result = Invoke-Captured { $rows | Send-AosMessage -KeepCopy -PassThru }
        Assert-OneError $result AosOutcomeUnknown ConnectionError -MessageLike "*could as well be that of an identical row of this run*"
        $result.Output.Count | Should -Be 1
        $result.Output[0].SettledAs | Should -BeNullOrEmpty
        @(Get-SandboxSpool).Count | Should -Be 1
    }

    It 'tells MIME rows apart by their boundary: identical rows with an attachment are each settled' {
        $file = Join-Path $TestDrive 'a.txt'
        Set-Content -LiteralPath $file -Value 'attached'
        Add-SandboxFault -Command sdmailact -Action dropAfter -Times 2
        $rows = 1..2 | ForEach-Object { [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'same'; Body = 'same body'; Attachments = $file } }
        $result = Invoke-Captured { $rows | Send-AosMessage -KeepCopy -PassThru }
        $result.Errors.Count | Should -Be 0 -Because ($result.Errors | Out-String)
        $result.Output.SettledAs | Sort-Object -Unique | Should -HaveCount 2
        @(Get-SandboxSpool).Count | Should -Be 2
    }

    It 'without -KeepCopy the outcome stays unknown, the message says -KeepCopy would have settled it, and the Outbox is not read' {
        Add-SandboxFault -Command sdmailact -Action dropAfter
        $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'no copy' -Body 'hello' -PassThru }
        Assert-OneError $result AosOutcomeUnknown ConnectionError -MessageLike '*may or may not have been sent*Sent with -KeepCopy*looked there to settle it.'
        Get-Count openbox $result.Requests | Should -Be 0
        Get-Count rdmail $result.Requests | Should -Be 0
    }

    It 'a run without unknown outcomes makes no request beyond its sends' {
        $rows = 1..20 | ForEach-Object { [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = "row $_"; Body = "body $_" } }
        $result = Invoke-Captured { $rows | Send-AosMessage -KeepCopy -ThrottleLimit 4 -PassThru }
        $result.Errors.Count | Should -Be 0
        $result.Output.Count | Should -Be 20
        $result.Requests.Count | Should -Be 20
        Get-Count sdmailact $result.Requests | Should -Be 20
    }

    It '-RetryUnknown without -JournalPath needs -KeepCopy' {
        $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'x' -RetryUnknown }
        Assert-OneError $result AosConflictingParameters InvalidArgument -MessageLike '*-RetryUnknown with a journal or -KeepCopy*'
        $result.Requests.Count | Should -Be 0
    }
}

Describe 'Settling on a rerun' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
        $script:Journal = Join-Path $TestDrive ([guid]::NewGuid().ToString('n') + '.jsonl')
        $script:Row = [pscustomobject]@{ Id = 'E1'; To = 'alice@sandbox.test'; Subject = 'Notice 1'; Body = 'Body of notice 1' }
    }

    It 'records whether the request kept a copy in its pending line' {
        $null = $Row | Send-AosMessage -JournalPath $Journal -JournalKey Id -KeepCopy
        $lines = @(Read-Journal $Journal)
        $lines[1].state | Should -BeExactly 'pending'
        $lines[1].copy | Should -BeExactly 'outbox'
        $lines[2].state | Should -BeExactly 'sent'
        $other = Join-Path $TestDrive 'other.jsonl'
        $null = $Row | Send-AosMessage -JournalPath $other -JournalKey Id
        @(Read-Journal $other)[1].PSObject.Properties.Name | Should -Not -Contain 'copy'
    }

    It 'settles a row left unknown by an earlier run as sent when its copy is in the Outbox, and records it' {
        Add-SandboxFault -Command sdmailact -Action dropAfter
        Clear-SandboxRequest
        # An older run's outcome: unknown even with -KeepCopy when the Outbox cannot be read then.
        Add-SandboxFault -Command openbox -Action status -StatusCode 500 -Text 'down' -Times 8
        $first = Invoke-Captured { $Row | Send-AosMessage -JournalPath $Journal -JournalKey Id -KeepCopy }
        Assert-OneError $first AosOutcomeUnknown ConnectionError -MessageLike '*could not settle it: the Outbox could not be read*'
        @(Read-Journal $Journal)[-1].state | Should -BeExactly 'unknown'
        Clear-SandboxFault

        $rerun = Invoke-Captured { $Row | Send-AosMessage -JournalPath $Journal -JournalKey Id -KeepCopy -PassThru }
        $rerun.Errors.Count | Should -Be 0 -Because ($rerun.Errors | Out-String)
        $rerun.Output[0].SettledAs | Should -Not -BeNullOrEmpty
        Get-Count sdmailact $rerun.Requests | Should -Be 0
        $last = @(Read-Journal $Journal)[-1]
        $last.state | Should -BeExactly 'sent'
        $last.answer | Should -BeLike 'settled: found in the Outbox as *'
        @(Get-SandboxSpool).Count | Should -Be 1

        $third = Invoke-Captured { $Row | Send-AosMessage -JournalPath $Journal -JournalKey Id -KeepCopy -PassThru }
        $third.Output[0].Skipped | Should -BeTrue
        $third.Requests.Count | Should -Be 0
    }

    It 'settles a pending row of a crashed run that the server never got as not sent; the next run sends it once' {
        $null = [pscustomobject]@{ Id = 'E0'; To = 'alice@sandbox.test'; Subject = 'Notice 0'; Body = 'x' } | Send-AosMessage -JournalPath $Journal -JournalKey Id -KeepCopy
        # What a process killed before its request reached the server leaves: a pending line that kept a copy.
        $time = [DateTime]::UtcNow.AddSeconds(-30).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [cultureinfo]::InvariantCulture)
        Add-Content -LiteralPath $Journal -Value ('{"key":"E1","state":"pending","time":"' + $time + '","copy":"outbox"}')
        $rerun = Invoke-Captured { $Row | Send-AosMessage -JournalPath $Journal -JournalKey Id -KeepCopy -PassThru }
        Assert-OneError $rerun AosNotSent InvalidOperation -MessageLike "*earlier attempt's outcome was unknown; no copy of it is in 'Outbox'*a rerun sends it*"
        Get-Count sdmailact $rerun.Requests | Should -Be 0
        $last = @(Read-Journal $Journal)[-1]
        $last.state | Should -BeExactly 'failed'
        $last.error | Should -BeExactly 'AosNotSent'

        $next = Invoke-Captured { $Row | Send-AosMessage -JournalPath $Journal -JournalKey Id -KeepCopy -PassThru }
        $next.Errors.Count | Should -Be 0
        $next.Output[0].ServerAnswer | Should -BeExactly 'OK'
        @(Get-SandboxSpool | Where-Object { (Get-Content -Raw $_.Path) -match 'Notice 1' }).Count | Should -Be 1
    }

    It 'with -RetryUnknown sends a pending row the Outbox shows was not sent at once, once' {
        $time = [DateTime]::UtcNow.AddSeconds(-30).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [cultureinfo]::InvariantCulture)
        $null = [pscustomobject]@{ Id = 'E0'; To = 'alice@sandbox.test'; Subject = 'Notice 0'; Body = 'x' } | Send-AosMessage -JournalPath $Journal -JournalKey Id -KeepCopy
        Add-Content -LiteralPath $Journal -Value ('{"key":"E1","state":"pending","time":"' + $time + '","copy":"outbox"}')
        $rerun = Invoke-Captured { $Row | Send-AosMessage -JournalPath $Journal -JournalKey Id -KeepCopy -RetryUnknown -PassThru }
        $rerun.Errors.Count | Should -Be 0 -Because ($rerun.Errors | Out-String)
        $rerun.Output[0].ServerAnswer | Should -BeExactly 'OK'
        Get-Count sdmailact $rerun.Requests | Should -Be 1
        @(Read-Journal $Journal | Select-Object -Skip 1 | Where-Object key -EQ 'E1').state | Should -Be @('pending', 'failed', 'pending', 'sent')
    }

    It 'does not settle a row whose earlier attempt kept no copy: it stays unknown and the message says so' {
        $time = [DateTime]::UtcNow.AddSeconds(-30).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [cultureinfo]::InvariantCulture)
        $null = [pscustomobject]@{ Id = 'E0'; To = 'alice@sandbox.test'; Subject = 'Notice 0'; Body = 'x' } | Send-AosMessage -JournalPath $Journal -JournalKey Id
        Add-Content -LiteralPath $Journal -Value ('{"key":"E1","state":"pending","time":"' + $time + '"}')
        $rerun = Invoke-Captured { $Row | Send-AosMessage -JournalPath $Journal -JournalKey Id -KeepCopy -PassThru }
        Assert-OneError $rerun AosOutcomeUnknown InvalidOperation -MessageLike '*not sent again*-RetryUnknown.'
        $rerun.Requests.Count | Should -Be 0
    }
}

Describe 'Settling through a session told the server always keeps copies' {
    BeforeEach {
        Reset-Sandbox
        # A server that keeps an Outbox copy of every send, keepcopy or not.
        $null = Set-SandboxOption -AlwaysKeepCopy $true
        $script:Credential = New-TestCredential
        $script:Uri = $env:AOS_SANDBOX_URI.TrimEnd('/')
    }

    It 'New-AosSession -OutboxKeepsCopies: a lost answer is settled without -KeepCopy, and the journal notes the copy' {
        $session = New-AosSession -Server $Uri -Credential $Credential -AllowUnencryptedAuthentication -OutboxKeepsCopies
        Add-SandboxFault -Command sdmailact -Action dropAfter
        $journal = Join-Path $TestDrive 'always.jsonl'
        $result = Invoke-Captured { Send-AosMessage -Session $session -To 'alice@sandbox.test' -Subject 'kept anyway' -Body 'hello' -JournalPath $journal -PassThru }
        $result.Errors.Count | Should -Be 0 -Because ($result.Errors | Out-String)
        $result.Output[0].SettledAs | Should -Not -BeNullOrEmpty
        $send = @($result.Requests | Where-Object Command -EQ sdmailact)
        @($send[0].Fields.Name) | Should -Not -Contain 'keepcopy' -Because 'the module adds no keepcopy of its own'
        @(Read-Journal $journal)[1].copy | Should -BeExactly 'outbox'
        @(Get-SandboxSpool).Count | Should -Be 1
    }

    It 'without it, the same send stays unknown and the Outbox is not read' {
        $session = New-AosSession -Server $Uri -Credential $Credential -AllowUnencryptedAuthentication
        Add-SandboxFault -Command sdmailact -Action dropAfter
        $result = Invoke-Captured { Send-AosMessage -Session $session -To 'alice@sandbox.test' -Subject 'kept anyway' -Body 'hello' -PassThru }
        Assert-OneError $result AosOutcomeUnknown ConnectionError -MessageLike '*Sent with -KeepCopy*'
        @($result.Requests | Where-Object Command -EQ openbox).Count | Should -Be 0
    }
}
