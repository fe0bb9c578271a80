# Send-AosMessage -JournalPath: a rerun with the same journal sends only the rows that did not go
# (sent: skipped; unknown or pending: reported, not resent unless -RetryUnknown; failed: resent),
# one command at a time per journal, never another account's journal, and nothing secret in it.
# The crash test (real kill -9s through a run, 'Send journal across kill -9') is at the end.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function New-Row([int] $N, [string] $Body = "Body of notice $N") {
        [pscustomobject]@{ EmployeeId = 'E{0:d4}' -f $N; To = "alice@sandbox.test"; Subject = "Notice $N"; Body = $Body }
    }

    function Read-Journal([string] $Path) {
        # Every line parses as JSON: the header first, then one record per state change.
        Get-Content -LiteralPath $Path | ForEach-Object { $_ | ConvertFrom-Json -DateKind String }
    }

    function Start-ChildPwsh([string] $Command) {
        # A pwsh of its own, as Invoke-ChildPwsh starts it, but not waited for: the test can kill it.
        $exe = [Environment]::ProcessPath
        $info = [System.Diagnostics.ProcessStartInfo]::new($exe)
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $info.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($argument in '-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Command))) {
            $info.ArgumentList.Add($argument)
        }
        $info.UseShellExecute = $false
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($info)
        # Read as it comes, so that a full pipe never stops the child.
        $process | Add-Member -NotePropertyName Out -NotePropertyValue $process.StandardOutput.ReadToEndAsync()
        $process | Add-Member -NotePropertyName Err -NotePropertyValue $process.StandardError.ReadToEndAsync()
        $process
    }

    function Wait-ChildPwsh($Process) {
        # Its output (stdout and stderr), once it has ended.
        if (-not $Process.WaitForExit(120000)) { & kill -9 $Process.Id; throw 'The child pwsh did not end within 2 minutes.' }
        $Process.Out.GetAwaiter().GetResult() + $Process.Err.GetAwaiter().GetResult()
    }
}

Describe 'Send journal' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
        $script:Journal = Join-Path $TestDrive ([guid]::NewGuid().ToString('n') + '.jsonl')
    }

    It 'records pending then sent for each row, and a rerun skips them all with their original time' {
        $rows = 1..3 | ForEach-Object { New-Row $_ }
        $first = Invoke-Captured { $rows | Send-AosMessage -JournalPath $Journal -PassThru }
        $first.Errors.Count | Should -Be 0 -Because ($first.Errors | Out-String)
        @(Get-SandboxSpool).Count | Should -Be 3

        $records = @(Read-Journal $Journal)
        $records.Count | Should -Be 7
        $records[0].journal | Should -BeExactly 'AosMail send journal'
        $records[0].server | Should -BeExactly $Session.Server.AbsoluteUri
        $records[0].account | Should -BeExactly 'demo@sandbox.test'
        $records[0].keyBy | Should -BeExactly 'content:2'
        @($records[1..6].state) | Should -Be 'pending', 'sent', 'pending', 'sent', 'pending', 'sent'
        @($records[1..6].key | Select-Object -Unique).Count | Should -Be 3
        $records[1..6].key | ForEach-Object { $_ | Should -Match '^sha256:[0-9a-f]{64}$' }
        $first.Output[2].Journal.ToString() | Should -BeExactly '3 sent, 0 skipped, 0 unknown, 0 failed'

        Clear-SandboxRequest
        $rerun = Invoke-Captured { $rows | Send-AosMessage -JournalPath $Journal -PassThru -Verbose 4>&1 }
        $rerun.Errors.Count | Should -Be 0 -Because ($rerun.Errors | Out-String)
        $rerun.Requests.Count | Should -Be 0 -Because 'nothing is sent, not even a login'
        @(Get-SandboxSpool).Count | Should -Be 3
        $results = @($rerun.Output | Where-Object { $_ -is [AosMail.AosSendResult] })
        $results.Count | Should -Be 3
        $results | ForEach-Object { $_.Skipped | Should -BeTrue }
        $results.Subject | Should -Be 'Notice 1', 'Notice 2', 'Notice 3'
        for ($i = 0; $i -lt 3; $i++) {
            $results[$i].Submitted | Should -Be ([datetimeoffset]$records[2 + 2 * $i].time).LocalDateTime
        }
        $results[0].Journal.Skipped | Should -Be 3
        $results[0].Journal.Sent | Should -Be 0
        $verbose = @($rerun.Output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        @($verbose -like "Skipped the message 'Notice *' to alice@sandbox.test: sent at *").Count | Should -Be 3
        $verbose[-1] | Should -BeLike "Journal $Journal`: 0 sent, 3 skipped (sent by an earlier run), 0 unknown (not sent again), 0 failed (nothing sent)."
        @(Read-Journal $Journal).Count | Should -Be 7 -Because 'skipping a row writes nothing'
    }

    It 'sends a row whose earlier attempt failed with nothing sent' {
        Add-SandboxFault -Command sdmailact -Action text -Text "false`r`nmailbox full"
        $rows = 1..2 | ForEach-Object { New-Row $_ }
        $first = Invoke-Captured { $rows | Send-AosMessage -JournalPath $Journal -PassThru -ErrorAction Continue }
        Assert-OneError $first AosServerRejected InvalidOperation
        $first.Output[-1].Journal.ToString() | Should -BeExactly '1 sent, 0 skipped, 0 unknown, 1 failed'
        $failed = @(Read-Journal $Journal | Where-Object state -EQ 'failed')
        $failed.Count | Should -Be 1
        $failed[0].error | Should -BeExactly 'AosServerRejected'

        Clear-SandboxRequest
        $rerun = Invoke-Captured { $rows | Send-AosMessage -JournalPath $Journal -PassThru }
        $rerun.Errors.Count | Should -Be 0 -Because ($rerun.Errors | Out-String)
        @($rerun.Requests | Where-Object Command -EQ sdmailact).Count | Should -Be 1
        @($rerun.Output | Where-Object Skipped).Subject | Should -Be 'Notice 2'
        @($rerun.Output | Where-Object { -not $_.Skipped }).Subject | Should -Be 'Notice 1'
        @(Get-SandboxSpool).Count | Should -Be 2
    }

    It 'reports a row of unknown outcome on rerun without sending it, and sends it once with -RetryUnknown' {
        # dropAfter: the server stores and delivers, and the client never hears of it.
        Add-SandboxFault -Command sdmailact -Action dropAfter
        $row = New-Row 1
        $first = Invoke-Captured { $row | Send-AosMessage -JournalPath $Journal }
        Assert-OneError $first AosOutcomeUnknown ConnectionError
        $unknown = @(Read-Journal $Journal)[-1]
        $unknown.state | Should -BeExactly 'unknown'
        $unknown.error | Should -BeExactly 'AosOutcomeUnknown'
        @(Get-SandboxSpool).Count | Should -Be 1

        Clear-SandboxRequest
        $attempted = ([datetimeoffset]@(Read-Journal $Journal)[-2].time).ToLocalTime().ToString('yyyy-MM-dd HH:mm:ss zzz', [cultureinfo]::InvariantCulture)
        $rerun = Invoke-Captured { $row | Send-AosMessage -JournalPath $Journal -PassThru }
        Assert-OneError $rerun AosOutcomeUnknown InvalidOperation -MessageLike "*earlier attempt to send the message 'Notice 1' to alice@sandbox.test at $attempted is unknown*-RetryUnknown*"
        $rerun.Errors[0].TargetObject.EmployeeId | Should -BeExactly 'E0001'
        $rerun.Requests.Count | Should -Be 0
        $rerun.Output.Count | Should -Be 0
        @(Get-SandboxSpool).Count | Should -Be 1

        $retry = Invoke-Captured { $row | Send-AosMessage -JournalPath $Journal -RetryUnknown -PassThru }
        $retry.Errors.Count | Should -Be 0 -Because ($retry.Errors | Out-String)
        $retry.Output[0].Skipped | Should -BeFalse
        @(Get-SandboxSpool).Count | Should -Be 2 -Because '-RetryUnknown sends it once more, as asked'
        @(Read-Journal $Journal)[-1].state | Should -BeExactly 'sent'

        $last = Invoke-Captured { $row | Send-AosMessage -JournalPath $Journal -RetryUnknown -PassThru }
        $last.Output[0].Skipped | Should -BeTrue
        @(Get-SandboxSpool).Count | Should -Be 2
    }

    It 'reports a row left pending by a crash as of unknown outcome' {
        $rows = 1..2 | ForEach-Object { New-Row $_ }
        $null = $rows[0] | Send-AosMessage -JournalPath $Journal -JournalKey EmployeeId
        # What a process killed during row 2's request leaves: its pending line and no answer.
        Add-Content -LiteralPath $Journal -Value '{"key":"E0002","state":"pending","time":"2026-01-02T03:04:05.000Z"}'
        Clear-SandboxRequest
        $rerun = Invoke-Captured { $rows | Send-AosMessage -JournalPath $Journal -JournalKey EmployeeId -ErrorAction Continue }
        $shown = ([datetimeoffset]'2026-01-02T03:04:05Z').ToLocalTime().ToString('yyyy-MM-dd HH:mm:ss zzz', [cultureinfo]::InvariantCulture)
        Assert-OneError $rerun AosOutcomeUnknown InvalidOperation -MessageLike "*row with EmployeeId 'E0002' at $shown is unknown: the run that made it ended before the server answered*"
        $rerun.Requests.Count | Should -Be 0
    }

    It 'drops an incomplete last line left by a crash and goes on' {
        $rows = 1..2 | ForEach-Object { New-Row $_ }
        $null = $rows[0] | Send-AosMessage -JournalPath $Journal
        $good = (Get-Item -LiteralPath $Journal).Length
        [IO.File]::AppendAllText($Journal, '{"key":"sha256:0123","state":"sen')
        $rerun = Invoke-Captured { $rows | Send-AosMessage -JournalPath $Journal -PassThru -Verbose 4>&1 }
        $rerun.Errors.Count | Should -Be 0 -Because ($rerun.Errors | Out-String)
        @($rerun.Output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like '*last line was incomplete*dropped*' }).Count | Should -Be 1
        $results = @($rerun.Output | Where-Object { $_ -is [AosMail.AosSendResult] })
        @($results.Skipped) | Should -Be $true, $false
        @(Get-SandboxSpool).Count | Should -Be 2
        $records = @(Read-Journal $Journal)
        $records.Count | Should -Be 5
        (Get-Item -LiteralPath $Journal).Length | Should -BeGreaterThan $good
    }

    It 'lets one command at a time use a journal: a second process gets AosJournalInUse and sends nothing' {
        # The first command, in a pwsh of its own, holds the journal while its send waits 5 s in the server.
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 5000
        $first = Start-ChildPwsh -Command @"
Import-Module '$env:AOS_TEST_MODULE'
`$credential = [pscredential]::new('$env:AOS_SANDBOX_USER', (ConvertTo-SecureString '$env:AOS_SANDBOX_PASSWORD' -AsPlainText -Force))
Send-AosMessage -Server '$env:AOS_SANDBOX_URI' -AllowUnencryptedAuthentication -Credential `$credential -To alice@sandbox.test -Subject first -Body one -JournalPath '$Journal'
"@
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not @(Get-SandboxRequest -Command sdmailact | Where-Object Outcome -EQ 'pending') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 1 -Because 'the first command is in its request'

            $second = Invoke-Captured { New-Row 2 | Send-AosMessage -JournalPath $Journal }
            Assert-OneError $second AosJournalInUse ResourceUnavailable -MessageLike "The journal '$Journal' is in use by another command*"
            $second.Errors[0].TargetObject | Should -BeExactly $Journal
            @($second.Requests | Where-Object Command -EQ sdmailact).Count | Should -Be 0
        }
        finally {
            $childOutput = Wait-ChildPwsh $first
        }
        $first.ExitCode | Should -Be 0
        $childOutput | Should -BeNullOrEmpty
        @(Get-SandboxSpool).Count | Should -Be 1

        # Once the first has ended, the journal is free again.
        $third = Invoke-Captured { New-Row 2 | Send-AosMessage -JournalPath $Journal }
        $third.Errors.Count | Should -Be 0 -Because ($third.Errors | Out-String)
        @(Get-SandboxSpool).Count | Should -Be 2
    }

    It 'refuses the second row of a run with the same key: identical content, or the same -JournalKey value' {
        $same = Invoke-Captured { @((New-Row 1), (New-Row 1), (New-Row 2)) | Send-AosMessage -JournalPath $Journal -PassThru -ErrorAction Continue }
        Assert-OneError $same AosJournalDuplicateKey InvalidData -MessageLike "This row is the same message as an earlier row of this run ('Notice 1' to alice@sandbox.test)*-JournalKey*"
        $same.Errors[0].TargetObject.EmployeeId | Should -BeExactly 'E0001'
        @($same.Output).Count | Should -Be 2
        @(Get-SandboxSpool).Count | Should -Be 2

        $byId = Join-Path $TestDrive 'by-id.jsonl'
        $rows = (New-Row 3), (New-Row 4 -Body 'other text'), (New-Row 5)
        $rows[1].EmployeeId = $rows[0].EmployeeId
        $keyed = Invoke-Captured { $rows | Send-AosMessage -JournalPath $byId -JournalKey EmployeeId -PassThru -ErrorAction Continue }
        Assert-OneError $keyed AosJournalDuplicateKey InvalidData -MessageLike "An earlier row of this run has the same EmployeeId 'E0003', so this row was not sent*"
        $keyed.Errors[0].TargetObject.Body | Should -BeExactly 'other text'
        @($keyed.Output.Subject) | Should -Be 'Notice 3', 'Notice 5'
        @(Get-SandboxSpool).Count | Should -Be 4
    }

    It '-JournalKey: rows keep their identity when their content changes between runs' {
        $rows = 1..3 | ForEach-Object { New-Row $_ }
        $null = $rows[0..1] | Send-AosMessage -JournalPath $Journal -JournalKey EmployeeId
        $records = @(Read-Journal $Journal)
        $records[0].keyBy | Should -BeExactly 'property:EmployeeId'
        @($records[1..4].key) | Should -Be 'E0001', 'E0001', 'E0002', 'E0002'

        # The next run's data says the same to the same people in other words.
        $changed = 1..3 | ForEach-Object { New-Row $_ -Body "Reworded notice $_" }
        Clear-SandboxRequest
        $rerun = Invoke-Captured { $changed | Send-AosMessage -JournalPath $Journal -JournalKey employeeid -PassThru }
        $rerun.Errors.Count | Should -Be 0 -Because ($rerun.Errors | Out-String)
        @($rerun.Output.Skipped) | Should -Be $true, $true, $false
        @($rerun.Requests | Where-Object Command -EQ sdmailact).Count | Should -Be 1
        @(Get-SandboxSpool).Count | Should -Be 3
    }

    It '-JournalKey: a row without the property, or with it empty, is an error and is not sent' {
        $rows = @(
            [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'no id'; Body = 'x' }
            [pscustomobject]@{ EmployeeId = ' '; To = 'alice@sandbox.test'; Subject = 'blank id'; Body = 'x' }
            (New-Row 7)
        )
        $result = Invoke-Captured { $rows | Send-AosMessage -JournalPath $Journal -JournalKey EmployeeId -PassThru -ErrorAction Continue }
        $result.Errors.Count | Should -Be 2 -Because ($result.Errors | Out-String)
        $result.Errors | ForEach-Object { $_ | Get-ErrorId | Should -BeExactly 'AosJournalKeyMissing' }
        $result.Errors | ForEach-Object { $_.CategoryInfo.Category | Should -Be InvalidData }
        $result.Errors[0].Exception.Message | Should -BeLike "This row has no property 'EmployeeId' (named by -JournalKey)*not sent*"
        $result.Errors[1].Exception.Message | Should -BeLike "This row's 'EmployeeId' (named by -JournalKey) is empty*"
        $result.Errors[1].TargetObject.Subject | Should -BeExactly 'blank id'
        @($result.Output.Subject) | Should -Be 'Notice 7'
        @(Get-SandboxSpool).Count | Should -Be 1
    }

    It 'refuses a journal of another account, another server or other keys, and sends nothing' {
        $null = New-Row 1 | Send-AosMessage -JournalPath $Journal
        $before = Get-Content -Raw -LiteralPath $Journal
        Clear-SandboxRequest

        $alice = New-TestSession -UserName alice@sandbox.test -Password 'Alice-Passw0rd'
        $other = Invoke-Captured { New-Row 2 | Send-AosMessage -Session $alice -JournalPath $Journal }
        Assert-OneError $other AosJournalMismatch InvalidArgument -MessageLike "The journal '$Journal' belongs to demo@sandbox.test at $($Session.Server.AbsoluteUri), not to alice@sandbox.test at *"

        $https = New-AosSession -Server $env:AOS_SANDBOX_HTTPS_URI -Credential (New-TestCredential) -SkipCertificateCheck -WarningAction SilentlyContinue
        $server = Invoke-Captured { New-Row 2 | Send-AosMessage -Session $https -JournalPath $Journal }
        Assert-OneError $server AosJournalMismatch InvalidArgument -MessageLike "*not to demo@sandbox.test at $env:AOS_SANDBOX_HTTPS_URI*"

        $keyed = Invoke-Captured { New-Row 2 | Send-AosMessage -Session $Session -JournalPath $Journal -JournalKey EmployeeId }
        Assert-OneError $keyed AosJournalMismatch InvalidArgument -MessageLike "*keys its rows by their content (no -JournalKey), but this command keys them by the property 'EmployeeId'*"

        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
        Get-Content -Raw -LiteralPath $Journal | Should -BeExactly $before
    }

    It 'refuses a file that is not a journal and leaves it as it was' {
        $csv = Join-Path $TestDrive 'users.csv'
        Set-Content -LiteralPath $csv -Value "EmployeeId,To`nE1,alice@sandbox.test"
        $before = Get-Content -Raw -LiteralPath $csv
        $result = Invoke-Captured { New-Row 1 | Send-AosMessage -JournalPath $csv }
        Assert-OneError $result AosJournalCorrupt InvalidData -MessageLike "The file '$csv' cannot be used as a send journal*"
        Get-Content -Raw -LiteralPath $csv | Should -BeExactly $before
        $result.Requests.Count | Should -Be 0
    }

    It 'a journal in a folder that does not exist is AosInvalidPath, and nothing is sent' {
        $path = Join-Path $TestDrive 'no-such-folder' 'notices.jsonl'
        $result = Invoke-Captured { New-Row 1 | Send-AosMessage -JournalPath $path }
        Assert-OneError $result AosInvalidPath InvalidArgument -MessageLike "The journal '$path' cannot be opened*"
        $result.Requests.Count | Should -Be 0
    }

    It '-JournalKey or -RetryUnknown without -JournalPath is an error before anything is sent' {
        $result = Invoke-Captured { New-Row 1 | Send-AosMessage -JournalKey EmployeeId }
        Assert-OneError $result AosConflictingParameters InvalidArgument -MessageLike '*give -JournalPath too*'
        $result = Invoke-Captured { New-Row 1 | Send-AosMessage -RetryUnknown }
        Assert-OneError $result AosConflictingParameters InvalidArgument
        $result.Requests.Count | Should -Be 0
    }

    It '-WhatIf reads the journal to show what a run would send, and creates and writes nothing' {
        $missing = Join-Path $TestDrive 'not-yet.jsonl'
        $preview = Invoke-Captured { New-Row 1 | Send-AosMessage -JournalPath $missing -WhatIf }
        $preview.Errors.Count | Should -Be 0
        Test-Path -LiteralPath $missing | Should -BeFalse

        $null = New-Row 1 | Send-AosMessage -JournalPath $Journal
        $before = Get-Content -Raw -LiteralPath $Journal
        Clear-SandboxRequest
        $preview = Invoke-Captured { (New-Row 1), (New-Row 2) | Send-AosMessage -JournalPath $Journal -WhatIf -Verbose 4>&1 }
        $preview.Errors.Count | Should -Be 0
        $preview.Requests.Count | Should -Be 0
        $messages = @($preview.Output | ForEach-Object { "$_" })
        @($messages -like "Skipped the message 'Notice 1'*").Count | Should -Be 1
        @($messages -like "*'Notice 2'*").Count | Should -Be 0 -Because 'row 2 would be sent, not skipped'
        Get-Content -Raw -LiteralPath $Journal | Should -BeExactly $before
    }

    It 'writes no password, session id, content or address into the journal' {
        $attachment = Join-Path $TestDrive 'salary-2026.pdf'
        Set-Content -LiteralPath $attachment -Value 'confidential attachment text'
        $body = 'The secret body text of the notice'
        $rows = @(
            [pscustomobject]@{ To = 'alice@sandbox.test'; Cc = 'bob@sandbox.test'; Subject = 'Private subject'; Body = $body; Attachments = $attachment }
            [pscustomobject]@{ To = 'bob@sandbox.test'; Subject = 'Second subject'; Body = "$body 2" }
        )
        Add-SandboxFault -Command sdmailact -Action expire   # a renewed session: two session ids in play
        Add-SandboxFault -Command sdmailact -Action dropAfter -Times 1
        $null = Invoke-Captured { $rows | Send-AosMessage -JournalPath $Journal -Header @{ 'X-Case' = 'case-4711' } -Priority High -ErrorAction Continue }
        @(Read-Journal $Journal).state | Should -Contain 'sent'

        $text = Get-Content -Raw -LiteralPath $Journal
        $text | Should -Not -Match 'SID[A-Za-z0-9]{4,}'
        foreach ($secret in $env:AOS_SANDBOX_PASSWORD, [uri]::EscapeDataString($env:AOS_SANDBOX_PASSWORD), $body, 'Private subject', 'Second subject',
            'alice@', 'bob@', 'salary-2026', 'confidential', 'case-4711') {
            $text | Should -Not -Match ([regex]::Escape($secret)) -Because "'$secret' is message content or a secret"
        }
        foreach ($record in Read-Journal $Journal | Select-Object -Skip 1) {
            @($record.PSObject.Properties.Name | Where-Object { $_ -notin 'key', 'state', 'time', 'answer', 'error' }) | Should -BeNullOrEmpty
        }
    }
}

Describe 'Send journal across kill -9' {
    # Kills by kind, in turn: held in the server before it acts (the row must stay undelivered),
    # held after it acted while its answer trickles (delivered, but the task never heard), and
    # wherever the free-running task is (between rows, in a journal write, after an answer).
    # 6 kills by default, 2 of each kind; AOS_JOURNAL_KILLS=20 is the long form (300 rows).
    BeforeAll {
        # Every request takes 20 ms: a kill point is found by polling the spool every 10 ms, and a
        # task sending at loopback speed (well under a millisecond a row) could otherwise finish its
        # rows between a poll and the kill.
        function Reset-KillSandbox { Reset-Sandbox; $null = Set-SandboxOption -LatencyMs 20 }
        Reset-KillSandbox
        $script:KillCount = if ($env:AOS_JOURNAL_KILLS) { [int]$env:AOS_JOURNAL_KILLS } else { 6 }
        $script:Rows = 15 * $KillCount
        $script:Csv = Join-Path $TestDrive 'notices.csv'
        # One recipient per row, outside the sandbox's domain: the spool envelope says which row a mail is.
        1..$Rows | ForEach-Object { [pscustomobject]@{ Id = 'R{0:d3}' -f $_; To = 'r{0:d3}@example.net' -f $_; Subject = "Notice $_"; Body = "Dear reader $_, this is notice $_." } } |
            Export-Csv -LiteralPath $Csv -NoTypeInformation
        $script:KillJournal = Join-Path $TestDrive 'notices.jsonl'
        $script:SpoolDir = Join-Path $env:AOS_SANDBOX_DATA 'spool'

        # The scheduled task: the whole file, every run, with the same journal; its errors are kept
        # by row id, as a task's -ErrorVariable would be.
        $script:TaskScript = Join-Path $TestDrive 'send-notices.ps1'
        Set-Content -LiteralPath $TaskScript -Value @'
param([string] $Csv, [string] $Journal, [string] $ErrorFile, [switch] $RetryUnknown, [switch] $KeepCopy)
Import-Module $env:AOS_TEST_MODULE
$credential = [pscredential]::new($env:AOS_SANDBOX_USER, (ConvertTo-SecureString $env:AOS_SANDBOX_PASSWORD -AsPlainText -Force))
Import-Csv -LiteralPath $Csv |
    Send-AosMessage -Server $env:AOS_SANDBOX_URI -AllowUnencryptedAuthentication -Credential $credential `
        -JournalPath $Journal -JournalKey Id -RetryUnknown:$RetryUnknown -KeepCopy:$KeepCopy -ErrorVariable failed -ErrorAction SilentlyContinue
Set-Content -LiteralPath $ErrorFile -Value @($failed | ForEach-Object { '{0}{1}{2}' -f ($_.FullyQualifiedErrorId -split ',')[0], "`t", $_.TargetObject.Id })
'@

        function Start-Task([switch] $RetryUnknown, [switch] $KeepCopy) {
            $errorFile = Join-Path $TestDrive ([guid]::NewGuid().ToString('n') + '.txt')
            $retry = if ($RetryUnknown) { ' -RetryUnknown' } else { '' }
            if ($KeepCopy) { $retry += ' -KeepCopy' }
            $process = Start-ChildPwsh -Command "& '$TaskScript' -Csv '$Csv' -Journal '$KillJournal' -ErrorFile '$errorFile'$retry"
            $process | Add-Member -NotePropertyName ErrorFile -NotePropertyValue $errorFile -PassThru
        }

        function Get-SpoolCount { if (Test-Path -LiteralPath $SpoolDir) { [IO.Directory]::GetFiles($SpoolDir, '*.eml').Length } else { 0 } }

        function Get-Delivered {
            # How many times each row's mail reached the spool, by row id.
            $count = @{}
            foreach ($item in Get-SandboxSpool) {
                foreach ($recipient in $item.Envelope.Recipients) {
                    if ($recipient -match '^r(\d{3})@example\.net$') { $id = "R$($Matches[1])"; $count[$id] = 1 + [int]$count[$id] }
                }
            }
            $count
        }

        function Get-JournalState {
            # The last state of each key, replayed the way the module does it: the lines end at the
            # first NUL, where the room of zeros a journal keeps while open (and a kill leaves) begins.
            $state = @{}
            $text = [IO.File]::ReadAllText($KillJournal)
            $lines = @(($text -split "`0", 2)[0] -split "`n" | Where-Object { $_ } | Select-Object -Skip 1)
            foreach ($record in ('[' + ($lines -join ',') + ']' | ConvertFrom-Json -DateKind String)) {
                $state[$record.key] = $record.state
            }
            $state
        }

        function Get-RowId($Request) {
            $to = ($Request.Fields | Where-Object Name -EQ 'mto').Value
            if ($to -match '^r(\d{3})@example\.net$') { "R$($Matches[1])" }
        }

        function Wait-Until([scriptblock] $Condition, $Process, [string] $What) {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (& $Condition)) {
                if ($Process.HasExited) { throw "The task ended before $What`: $(Wait-ChildPwsh $Process)" }
                if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out waiting until $What." }
                Start-Sleep -Milliseconds 10
            }
        }

        function Invoke-KilledTask([int] $K, [switch] $KeepCopy) {
            # Kill k: a task is started and killed with kill -9 once the k-th target count of mails is
            # delivered (kill points spread through the run), of the k-th kind in turn. Returns the
            # kind, the target and the row held in the server at the kill, if any.
            $target = 12 * $K + 10
            $kind = @('anywhere', 'before acting', 'after acting')[$K % 3]
            Clear-SandboxRequest
            Clear-SandboxFault
            $task = Start-Task -KeepCopy:$KeepCopy
            Wait-Until { (Get-SpoolCount) -ge $target } $task "$target mails were delivered"
            $held = $null
            if ($kind -eq 'before acting') {
                Add-SandboxFault -Command sdmailact -Action delay -DelayMs 5000
                # Its fields too: the sandbox takes a fault as a request arrives, before it reads the body.
                Wait-Until { @(Get-SandboxRequest -Command sdmailact | Where-Object { $_.Fault -eq 'delay' -and $_.Outcome -eq 'pending' -and (Get-RowId $_) }).Count -gt 0 } $task 'a request was held'
                $held = @(Get-SandboxRequest -Command sdmailact | Where-Object Fault -EQ 'delay')[0]
            }
            elseif ($kind -eq 'after acting') {
                # "OK" one byte every 5 s: the server has stored the mail before the first byte.
                Add-SandboxFault -Command sdmailact -Action trickle -DelayMs 5000
                Wait-Until { @(Get-SandboxRequest -Command sdmailact | Where-Object { $_.Fault -eq 'trickle' -and $_.Outcome -eq 'pending' -and (Get-RowId $_) }).Count -gt 0 } $task 'an answer trickled'
                $held = @(Get-SandboxRequest -Command sdmailact | Where-Object Fault -EQ 'trickle')[0]
                Wait-Until { (Get-Delivered)[(Get-RowId $held)] -eq 1 } $task 'the server stored the held row'
            }
            & kill -9 $task.Id
            $null = Wait-ChildPwsh $task
            $task.ExitCode | Should -Be 137 -Because 'kill -9 ended the task (128 + SIGKILL)'
            [IO.File]::ReadAllBytes($KillJournal)[-1] | Should -Be 0 -Because 'a journal keeps zeros ahead of its lines while open, and a kill leaves them'

            $heldRow = $null
            if ($held) {
                # The server sees the connection go and drops the held request.
                Wait-Until { @(Get-SandboxRequest -Command sdmailact | Where-Object { $_.Seq -eq $held.Seq -and $_.Outcome -ne 'pending' }).Count -eq 1 } `
                    ([pscustomobject]@{ HasExited = $false }) 'the server let go of the held request'
                $heldRow = Get-RowId $held
            }
            [pscustomobject]@{ Kind = $kind; Target = $target; Held = $heldRow }
        }
    }

    It 'delivers every row once over its kills; a row in flight at a kill is reported, not resent, and sent once with -RetryUnknown' {
        $kills = [System.Collections.Generic.List[object]]::new()
        $openBefore = @()
        for ($k = 1; $k -le $KillCount; $k++) {
            $killed = Invoke-KilledTask $k
            $kind = $killed.Kind; $target = $killed.Target; $heldRow = $killed.Held
            # A task sends one row at a time: a kill leaves at most one row without an answer.
            $state = Get-JournalState
            $openNow = @($state.Keys | Where-Object { $state[$_] -in 'pending', 'unknown' })
            $newOpen = @($openNow | Where-Object { $_ -notin $openBefore })
            $newOpen.Count | Should -BeLessOrEqual 1 -Because "kill $k"
            if ($heldRow) { $newOpen | Should -Be $heldRow -Because "the row held in the server at kill $k ($kind) is the one left pending" }
            $openBefore = $openNow
            $kills.Add([pscustomobject]@{ Kill = $k; Kind = $kind; Target = $target; Open = $newOpen; Held = $heldRow })
        }

        # The run after the last kill is not interrupted: it ends by itself and reports the rows
        # whose outcome is unknown, without sending them.
        Clear-SandboxFault
        Clear-SandboxRequest
        $final = Start-Task
        $null = Wait-ChildPwsh $final
        $final.ExitCode | Should -Be 0
        [Array]::IndexOf([IO.File]::ReadAllBytes($KillJournal), [byte]0) | Should -Be -1 -Because 'a journal closed by its command is its lines only, the zeros the kills left cut off'
        $reported = @(Get-Content -LiteralPath $final.ErrorFile | Where-Object { $_ })
        $state = Get-JournalState
        $delivered = Get-Delivered

        $ids = 1..$Rows | ForEach-Object { 'R{0:d3}' -f $_ }
        $open = @($ids | Where-Object { $state[$_] -in 'pending', 'unknown' })
        # No row is lost without a record: every row is in the journal, sent or of unknown outcome.
        @($ids | Where-Object { $state[$_] -notin 'sent', 'pending', 'unknown' }) | Should -BeNullOrEmpty
        # Every sent row arrived exactly once.
        @($ids | Where-Object { $state[$_] -eq 'sent' -and $delivered[$_] -ne 1 }) | Should -BeNullOrEmpty
        # A row of unknown outcome arrived at most once, and only a row in flight at a kill is one.
        @($open | Where-Object { [int]$delivered[$_] -gt 1 }) | Should -BeNullOrEmpty
        ($open | Sort-Object) | Should -Be @($kills | ForEach-Object Open | Sort-Object) -Because 'only a kill leaves a row open'
        # Each held request left its row pending: undelivered when held before the server acted,
        # delivered once when held after.
        foreach ($kill in @($kills | Where-Object Held)) {
            $state[$kill.Held] | Should -BeExactly 'pending' -Because "row $($kill.Held) was in flight when its task was killed"
            [int]$delivered[$kill.Held] | Should -Be ([int]($kill.Kind -eq 'after acting')) -Because "row $($kill.Held) was held $($kill.Kind)"
        }
        @($kills | Where-Object Held).Count | Should -Be ([math]::Ceiling($KillCount * 2 / 3))
        $open.Count | Should -BeGreaterOrEqual ([math]::Ceiling($KillCount * 2 / 3))
        $open.Count | Should -BeLessOrEqual $KillCount
        # The uninterrupted run reported exactly those rows as of unknown outcome, and nothing else.
        ($reported | Sort-Object) | Should -Be @($open | ForEach-Object { "AosOutcomeUnknown`t$_" } | Sort-Object)
        @(Get-SandboxRequest -Command sdmailact | Where-Object { (Get-RowId $_) -in $open }) | Should -BeNullOrEmpty
        $total = ($delivered.Values | Measure-Object -Sum).Sum

        # After checking the mailbox, the author sends the rows of unknown outcome once more.
        $retry = Start-Task -RetryUnknown
        $null = Wait-ChildPwsh $retry
        $retry.ExitCode | Should -Be 0
        @(Get-Content -LiteralPath $retry.ErrorFile | Where-Object { $_ }) | Should -BeNullOrEmpty
        $after = Get-Delivered
        foreach ($id in $ids) {
            $expected = [int]$delivered[$id] + $(if ($id -in $open) { 1 } else { 0 })
            [int]$after[$id] | Should -Be $expected -Because "row $id"
        }
        ($after.Values | Measure-Object -Sum).Sum | Should -Be ($total + $open.Count)
        $final = Get-JournalState
        @($ids | Where-Object { $final[$_] -ne 'sent' }) | Should -BeNullOrEmpty
        Write-Host ("Kill test: $KillCount kills; {0} rows were in flight at a kill ({1} of them already delivered by the server); {2} mails in all." -f `
                $open.Count, @($open | Where-Object { $delivered[$_] -eq 1 }).Count, ($after.Values | Measure-Object -Sum).Sum)
    }

    It 'with -KeepCopy, settles every row a kill left open against the Outbox: after the reruns none is unknown and each arrived exactly once' {
        # The same kills as above, with a journal and a sandbox of its own; each run keeps copies, so
        # the next run looks for an open row's copy instead of reporting it.
        Reset-KillSandbox
        $script:KillJournal = Join-Path $TestDrive 'notices-keepcopy.jsonl'
        $kills = [System.Collections.Generic.List[object]]::new()
        for ($k = 1; $k -le $KillCount; $k++) {
            $killed = Invoke-KilledTask $k -KeepCopy
            if ($killed.Held) {
                (Get-JournalState)[$killed.Held] | Should -BeExactly 'pending' -Because "the row held at kill $k ($($killed.Kind)) is left pending"
                $kills.Add([pscustomobject]@{ Kill = $k; Kind = $killed.Kind; Held = $killed.Held })
            }
        }

        # The run after the last kill settles what the kills left open: a copy found is sent, no copy
        # is not sent (AosNotSent); with -RetryUnknown those are sent once, and nothing twice.
        Clear-SandboxFault
        Clear-SandboxRequest
        $final = Start-Task -KeepCopy -RetryUnknown
        $output = Wait-ChildPwsh $final
        $final.ExitCode | Should -Be 0 -Because $output
        @(Get-Content -LiteralPath $final.ErrorFile | Where-Object { $_ }) | Should -BeNullOrEmpty
        $state = Get-JournalState
        $delivered = Get-Delivered
        $ids = 1..$Rows | ForEach-Object { 'R{0:d3}' -f $_ }
        @($ids | Where-Object { $state[$_] -ne 'sent' }) | Should -BeNullOrEmpty -Because 'no row is left unknown'
        @($ids | Where-Object { [int]$delivered[$_] -ne 1 }) | Should -BeNullOrEmpty -Because 'every row arrived exactly once'
        ($delivered.Values | Measure-Object -Sum).Sum | Should -Be $Rows
        $records = @(Get-Content -LiteralPath $KillJournal | Select-Object -Skip 1 | ConvertFrom-Json)
        foreach ($kill in $kills) {
            # Held after acting: its copy settled it as sent; held before: no copy, so not sent, and sent by a later run.
            $mine = @($records | Where-Object key -EQ $kill.Held)
            if ($kill.Kind -eq 'after acting') {
                @($mine | Where-Object { $_.state -eq 'sent' -and $_.answer -like 'settled: found in the Outbox as *' }).Count | Should -Be 1 -Because "row $($kill.Held) was held after acting"
            }
            else {
                @($mine | Where-Object { $_.state -eq 'failed' -and $_.error -eq 'AosNotSent' }).Count | Should -Be 1 -Because "row $($kill.Held) was held before acting"
            }
        }
        $settled = @(Get-Content -LiteralPath $KillJournal | Select-Object -Skip 1 | ConvertFrom-Json | Where-Object { $_.answer -like 'settled*' }).Count
        Write-Host "Kill test with -KeepCopy: $KillCount kills, $($kills.Count) held rows, $settled settled as sent by their copy; $Rows rows each delivered once."
    }
}
