# The rows of one Send-AosMessage call as a user meets them: -ErrorAction Stop stops before any
# later row starts, whatever -ThrottleLimit; a slow request does not hold the others back; a row
# the server confirmed but the journal could not record (a full disk) is reported as sent, with an
# error; piped objects that describe no message are refused before anything is sent.
# Pester runs each test with $ErrorActionPreference = 'Stop': a test that means to go on past an
# error says -ErrorAction Continue.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Import-MimeKit

    function New-Rows {
        param([int] $Count, [string] $Prefix, [int] $KeyLength = 8)
        1..$Count | ForEach-Object {
            [pscustomobject]@{
                Id = ('{0}' -f $_).PadLeft($KeyLength, '0'); To = 'bob@sandbox.test'; Subject = '{0} {1:D3}' -f $Prefix, $_; Body = "row $_"
            }
        }
    }
}

Describe 'Send-AosMessage -ErrorAction Stop with -ThrottleLimit' {
    BeforeEach {
        Reset-Sandbox
        $null = New-TestSession
        $null = Set-SandboxOption -LatencyMs 300
    }

    It 'starts no row after a bad row 3: rows 1 and 2 are sent and written, then row 3''s error ends the command' {
        $rows = @(New-Rows -Count 10 -Prefix 'stop')
        $rows[2].To = 'not-an-address'

        $result = Invoke-Captured { $rows | Send-AosMessage -ThrottleLimit 4 -PassThru -ErrorAction Stop }

        @($result.Output.Subject) | Should -Be @('stop 001', 'stop 002')
        Assert-OneError $result -ErrorId AosInvalidAddress -Category InvalidArgument
        @($result.Requests | Where-Object Command -EQ 'sdmailact').Count | Should -Be 2
        Get-SpooledSubject | Sort-Object | Should -Be @('stop 001', 'stop 002')
    }

    It 'does the same for $ErrorActionPreference = ''Stop''' {
        $rows = @(New-Rows -Count 10 -Prefix 'pref')
        $rows[2].To = 'not-an-address'

        $result = Invoke-Captured { & { $ErrorActionPreference = 'Stop'; $rows | Send-AosMessage -ThrottleLimit 8 -PassThru } }

        @($result.Output.Subject) | Should -Be @('pref 001', 'pref 002')
        Assert-OneError $result -ErrorId AosInvalidAddress -Category InvalidArgument
        @($result.Requests | Where-Object Command -EQ 'sdmailact').Count | Should -Be 2
    }

    It 'without Stop goes on past the bad row and sends the rest' {
        $rows = @(New-Rows -Count 6 -Prefix 'go')
        $rows[2].To = 'not-an-address'

        $result = Invoke-Captured { $rows | Send-AosMessage -ThrottleLimit 4 -PassThru -ErrorAction Continue }

        @($result.Output.Subject) | Should -Be @('go 001', 'go 002', 'go 004', 'go 005', 'go 006')
        Assert-OneError $result -ErrorId AosInvalidAddress -Category InvalidArgument
    }
}

Describe 'Send-AosMessage -ThrottleLimit without head-of-line blocking' {
    BeforeEach {
        Reset-Sandbox
        $null = New-TestSession
    }

    It 'keeps the other requests going while one is slow, and still writes the results in input order' {
        $null = Set-SandboxOption -LatencyMs 100
        # The first request to arrive (row 1's) takes 3 s; the others 100 ms each.
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 3000
        $rows = @(New-Rows -Count 20 -Prefix 'hol')

        $all = @($rows | Send-AosMessage -ThrottleLimit 4 -PassThru)

        @($all.Subject) | Should -Be @($rows.Subject)
        $sends = @(Get-SandboxRequest -Command sdmailact)
        $sends.Count | Should -Be 20
        $slow = $sends | Sort-Object DurationMs -Descending | Select-Object -First 1
        $slow.DurationMs | Should -BeGreaterOrEqual 2900
        $slowStart = ([datetimeoffset]$slow.Time).UtcTicks
        $slowEnd = $slowStart + [long]($slow.DurationMs * 10000)
        $startedMeanwhile = @($sends | Where-Object { $_.Seq -ne $slow.Seq -and ([datetimeoffset]$_.Time).UtcTicks -lt $slowEnd })
        # A window that waits for its oldest row starts only the 3 rows beside it; this one starts all 19.
        $startedMeanwhile.Count | Should -Be 19 -Because 'the three free places serve the other rows while row 1 is slow'
    }
}

Describe 'Send-AosMessage -JournalPath on a full disk' {
    BeforeEach {
        Reset-Sandbox
        $null = New-TestSession
    }

    It 'reports a row the server confirmed but the journal could not record as sent, with an error; the closing error names the rows sent' {
        $small = Join-Path $TestDrive 'small'
        $null = New-Item -ItemType Directory -Path $small
        $mounted = if ($IsLinux) { & mount -t tmpfs -o size=8k tmpfs $small 2>&1; $LASTEXITCODE -eq 0 } else { $false }
        if (-not $mounted) {
            Set-ItResult -Skipped -Because 'a full disk is played by a small tmpfs, and mounting one (mount -t tmpfs, as root on Linux) is not allowed here'
            return
        }
        try {
            # The lines' lengths, from a journal on the ordinary disk: header, then pending and sent per row.
            $probe = Join-Path $TestDrive 'probe.jsonl'
            New-Rows -Count 1 -Prefix 'probe' | Send-AosMessage -JournalPath $probe -JournalKey Id
            $lengths = @(Get-Content -LiteralPath $probe | ForEach-Object { [Text.Encoding]::UTF8.GetByteCount($_) + 1 })
            $lengths.Count | Should -Be 3
            # Half of the tmpfs is taken; the journal has one 4096-byte page. Pick the key length at which
            # that page ends inside a sent line: that row's pending line fits, its sent line does not.
            $null = New-Item -ItemType File -Path (Join-Path $small 'filler')
            [IO.File]::WriteAllBytes((Join-Path $small 'filler'), [byte[]]::new(4096))
            $keyLength = 8..40 | Where-Object {
                $pending = $lengths[1] + $_ - 8; $sent = $lengths[2] + $_ - 8
                ((4096 - $lengths[0]) % ($pending + $sent)) -ge $pending
            } | Select-Object -First 1
            $keyLength | Should -Not -BeNullOrEmpty
            $pending = $lengths[1] + $keyLength - 8; $sent = $lengths[2] + $keyLength - 8
            $lastSent = [math]::Floor((4096 - $lengths[0]) / ($pending + $sent)) + 1   # the row whose sent line does not fit
            Reset-Sandbox
            $null = New-TestSession
            $journal = Join-Path $small 'journal.jsonl'
            $rows = @(New-Rows -Count 40 -Prefix 'full' -KeyLength $keyLength)

            $result = Invoke-Captured { $rows | Send-AosMessage -JournalPath $journal -JournalKey Id -PassThru -ErrorAction Continue }

            # Rows 1 .. lastSent have results: the last of them too, though the journal missed it.
            @($result.Output.Subject) | Should -Be @($rows[0..($lastSent - 1)].Subject)
            # Row lastSent's sent line fails in the flush of row lastSent + 1's pending line: both rows get an error.
            $result.Errors.Count | Should -Be 3 -Because ($result.Errors | Out-String)
            $result.Errors[0] | Get-ErrorId | Should -BeExactly 'AosJournalSentNotRecorded'
            $result.Errors[0].CategoryInfo.Category | Should -Be 'WriteError'
            [object]::ReferenceEquals($result.Errors[0].TargetObject, $rows[$lastSent - 1]) | Should -BeTrue
            $result.Errors[0].Exception.Message | Should -BeLike "Row $lastSent (*) was sent. The server confirmed this message, but the journal*could not record it*A rerun with this journal reports it as of unknown outcome and does not send it again*"
            $result.Errors[1] | Get-ErrorId | Should -BeExactly 'AosJournalWriteFailed'
            [object]::ReferenceEquals($result.Errors[1].TargetObject, $rows[$lastSent]) | Should -BeTrue
            # The closing error: the journal is broken, so nothing more goes, and it says which rows went.
            $result.Errors[2] | Get-ErrorId | Should -BeExactly 'AosJournalWriteFailed'
            $result.Errors[2].Exception.Message | Should -BeLike "*Rows sent by this command: 1-$lastSent; row $($lastSent + 2) and any after it were not sent."
            Get-SpooledSubject | Sort-Object | Should -Be @($rows[0..($lastSent - 1)].Subject)

            # The rerun (the journal copied to a disk with room) does what the error said.
            $copy = Join-Path $TestDrive 'copy.jsonl'
            Copy-Item -LiteralPath $journal -Destination $copy
            $rerun = Invoke-Captured { $rows | Send-AosMessage -JournalPath $copy -JournalKey Id -PassThru -ErrorAction Continue }
            Assert-OneError $rerun -ErrorId AosOutcomeUnknown -Category InvalidOperation
            [object]::ReferenceEquals($rerun.Errors[0].TargetObject, $rows[$lastSent - 1]) | Should -BeTrue
            @($rerun.Output | Where-Object { -not $_.Skipped }).Subject | Should -Be @($rows[$lastSent..39].Subject)
            $spooled = Get-SpooledSubject
            $spooled.Count | Should -Be 40
            @($spooled | Sort-Object -Unique).Count | Should -Be 40
        }
        finally {
            & umount $small 2>&1 | Out-Null
        }
    }
}

Describe 'Piped objects that describe no message' {
    BeforeEach {
        Reset-Sandbox
        $null = New-TestSession
    }

    It 'refuses numbers as ambiguous pipeline input and sends nothing' {
        $result = Invoke-Captured { 1..3 | Send-AosMessage -To bob@sandbox.test -Subject 'numbers' -Body 'x' }
        Assert-OneError $result -ErrorId AosAmbiguousPipelineInput -Category InvalidArgument -MessageLike 'A System.Int32 was piped to Send-AosMessage*no property that names a message part*It was not sent*Import-Csv*No row of this command was sent*'
        $result.Errors[0].TargetObject | Should -Be 1
        @($result.Requests | Where-Object Command -EQ 'sdmailact').Count | Should -Be 0
    }

    It 'refuses processes, and any object without a message property, for both message cmdlets' {
        $process = Get-Process -Id $PID
        $result = Invoke-Captured { $process | Send-AosMessage -To bob@sandbox.test -Subject 'processes' -Body 'x' }
        Assert-OneError $result -ErrorId AosAmbiguousPipelineInput -Category InvalidArgument -MessageLike 'A System.Diagnostics.Process was piped*'

        $result = Invoke-Captured { [pscustomobject]@{ Name = 'n'; Value = 1 }, [pscustomobject]@{ Name = 'm'; Value = 2 } | Save-AosDraft -Subject 'objects' }
        Assert-OneError $result -ErrorId AosAmbiguousPipelineInput -Category InvalidArgument
        # A hashtable binds nothing by name either (PowerShell binds properties, not keys).
        $result = Invoke-Captured { @{ To = 'bob@sandbox.test' } | Send-AosMessage -To bob@sandbox.test -Subject 'hashtable' -Body 'x' }
        Assert-OneError $result -ErrorId AosAmbiguousPipelineInput -Category InvalidArgument
        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
    }

    It 'says which rows went when such an object comes after rows that were sent' {
        # -To on the command line: without it PowerShell itself refuses the number (InputObjectMissingMandatory).
        $rows = @(New-Rows -Count 2 -Prefix 'mixed') + @(42)
        $result = Invoke-Captured { $rows | Send-AosMessage -To bob@sandbox.test -PassThru -ErrorAction Continue }
        @($result.Output.Subject) | Should -Be @('mixed 001', 'mixed 002')
        Assert-OneError $result -ErrorId AosAmbiguousPipelineInput -Category InvalidArgument -MessageLike '*Rows sent by this command: 1-2; row 3 and any after it were not sent.'
    }

    It 'still sends a row that binds any message property (here only To)' {
        $result = Invoke-Captured { [pscustomobject]@{ To = 'bob@sandbox.test' } | Send-AosMessage -Subject 'only To' -Body 'x' -PassThru }
        $result.Errors | Should -BeNullOrEmpty
        $result.Output.Subject | Should -Be 'only To'
    }

    It 'refuses several piped files, naming -Attachments (Get-ChildItem ...), and sends nothing' {
        $files = 1..3 | ForEach-Object { New-RandomFile -Path (Join-Path $TestDrive "f$_.txt") -Size 100 }
        $result = Invoke-Captured { Get-ChildItem (Join-Path $TestDrive 'f*.txt') | Send-AosMessage -To bob@sandbox.test -Subject 'files' -Body 'x' }
        Assert-OneError $result -ErrorId AosAmbiguousPipelineInput -Category InvalidArgument -MessageLike '3 files were piped to Send-AosMessage*Nothing was sent*-Attachments (Get-ChildItem *.txt)*'
        @($result.Requests | Where-Object Command -EQ 'sdmailact').Count | Should -Be 0
        $files.Count | Should -Be 3
    }

    It 'sends one piped file as the attachment of one message' {
        $file = New-RandomFile -Path (Join-Path $TestDrive 'one.txt') -Size 100
        $result = Invoke-Captured { $file | Send-AosMessage -To bob@sandbox.test -Subject 'one file' -Body 'x' -PassThru }
        $result.Errors | Should -BeNullOrEmpty
        $result.Output.Attachments | Should -Be @('one.txt')
    }
}
