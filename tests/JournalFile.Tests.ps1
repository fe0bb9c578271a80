# Send-AosMessage -JournalPath with files a journal cannot be fooled by (zeros, /dev/null, a FIFO,
# an oversize file, keys no text encoding keeps) and on a full disk (a small tmpfs mounted by the
# test): each is refused with a documented id and nothing sent, or reported as what happened.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function New-Row([string] $Id, [int] $N = 1) {
        [pscustomobject]@{ EmployeeId = $Id; To = 'alice@sandbox.test'; Subject = "Notice $N"; Body = "Body of notice $N" }
    }

    function Read-JournalLine([string] $Path) {
        Get-Content -LiteralPath $Path | Where-Object { $_.Trim() } | ForEach-Object { $_ | ConvertFrom-Json -DateKind String }
    }
}

Describe 'Send journal: files that are not journals' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    It 'refuses a file of zeros with AosJournalCorrupt, leaves it as it was and sends nothing' {
        $zeros = Join-Path $TestDrive 'zeros.jsonl'
        [IO.File]::WriteAllBytes($zeros, [byte[]]::new(4096))
        $result = Invoke-Captured { New-Row E1 | Send-AosMessage -JournalPath $zeros }
        Assert-OneError $result AosJournalCorrupt InvalidData -MessageLike "The file '$zeros' cannot be used as a send journal*not changed*"
        $result.Requests.Count | Should -Be 0
        $bytes = [IO.File]::ReadAllBytes($zeros)
        $bytes.Length | Should -Be 4096
        @($bytes | Where-Object { $_ -ne 0 }).Count | Should -Be 0
    }

    It 'refuses <Name> with AosInvalidPath and sends nothing' -Skip:$IsWindows -ForEach @(
        @{ Name = '/dev/null'; Path = '/dev/null' }
        @{ Name = 'a FIFO'; Path = 'fifo' }
    ) {
        if ($Path -eq 'fifo') {
            $Path = Join-Path $TestDrive 'journal.fifo'
            & mkfifo $Path
        }
        $result = Invoke-Captured { New-Row E1 | Send-AosMessage -JournalPath $Path }
        Assert-OneError $result AosInvalidPath InvalidArgument -MessageLike "The journal '$Path' is not a regular file*"
        $result.Errors[0].TargetObject | Should -BeExactly $Path
        $result.Requests.Count | Should -Be 0
    }

    It 'refuses a journal over 256 MB with AosJournalTooLarge and leaves it as it was' {
        $journal = Join-Path $TestDrive 'big.jsonl'
        $null = New-Row E1 | Send-AosMessage -JournalPath $journal -JournalKey EmployeeId
        $file = [IO.File]::Open($journal, 'Open', 'ReadWrite')
        # Sparse (no disk used), with text past the limit: a zero tail there would be a crashed journal's room.
        try { $file.SetLength(256MB + 1); $file.Seek(256MB, 'Begin'); $file.WriteByte(120) } finally { $file.Dispose() }
        Clear-SandboxRequest
        $result = Invoke-Captured { New-Row E2 2 | Send-AosMessage -JournalPath $journal -JournalKey EmployeeId }
        Assert-OneError $result AosJournalTooLarge InvalidData -MessageLike "The file '$journal' (268,435,457 bytes) is larger than a send journal may be (256 MB*"
        $result.Requests.Count | Should -Be 0
        (Get-Item -LiteralPath $journal).Length | Should -Be (256MB + 1)
    }

    It 'keeps a -JournalKey value no text encoding can carry (a lone surrogate, NUL) exactly: the rerun skips those rows' {
        $journal = Join-Path $TestDrive 'keys.jsonl'
        $surrogate = 'E1' + [char]0xD800
        $nul = 'E2' + [char]0
        $rows = (New-Row $surrogate 1), (New-Row $nul 2)
        $first = Invoke-Captured { $rows | Send-AosMessage -JournalPath $journal -JournalKey EmployeeId -PassThru }
        $first.Errors.Count | Should -Be 0 -Because ($first.Errors | Out-String)
        @(Get-SandboxSpool).Count | Should -Be 2
        # Escaped as JSON, where UTF-8 has no form for them (ConvertFrom-Json reads a lone surrogate as U+FFFD, so the text is checked).
        $text = [IO.File]::ReadAllText($journal)
        $text | Should -BeLike '*"key":"E1\ud800","state":"sent"*'
        $text | Should -BeLike '*"key":"E2\u0000","state":"sent"*'

        # The same rows skip; a key a lossy encoding would have turned the first into is another row.
        Clear-SandboxRequest
        $rerun = Invoke-Captured { @($rows) + (New-Row ('E1' + [char]0xFFFD) 3) | Send-AosMessage -JournalPath $journal -JournalKey EmployeeId -PassThru }
        $rerun.Errors.Count | Should -Be 0 -Because ($rerun.Errors | Out-String)
        @($rerun.Output.Skipped) | Should -Be $true, $true, $false
        @($rerun.Requests | Where-Object Command -EQ sdmailact).Count | Should -Be 1
        @(Get-SandboxSpool).Count | Should -Be 3
    }
}

Describe 'Send journal on a full disk' {
    BeforeAll {
        # A 64 KB tmpfs of its own; a journal's next line needs a new 4 KB page once its file ends
        # on a page boundary, which the tests arrange with blank lines (a journal skips them).
        $script:Disk = Join-Path $TestDrive 'small-disk'
        $null = New-Item -ItemType Directory -Path $Disk
        $script:NoMount = $null
        if ($IsWindows -or $IsMacOS) {
            $script:NoMount = 'a tmpfs can be mounted on Linux only'
        }
        else {
            $output = & mount -t tmpfs -o size=64k tmpfs $Disk 2>&1
            if ($LASTEXITCODE -ne 0) { $script:NoMount = "mounting a tmpfs is not allowed here: $output" }
        }

        function Set-DiskFull {
            # Fills every free page (dd ends with "No space left on device").
            $filler = Join-Path $Disk 'filler'
            $null = & dd if=/dev/zero "of=$filler" bs=4096 2>&1
            [IO.DriveInfo]::new($Disk).AvailableFreeSpace | Should -Be 0 -Because 'the small disk is full'
            (Get-Item -LiteralPath $filler).Length | Should -BeGreaterThan 0
        }

        function Set-JournalEnd([string] $Path, [int] $Room) {
            # Blank lines up to the end of the file's last page, less $Room bytes.
            $length = (Get-Item -LiteralPath $Path).Length
            $pad = 4096 - ($length % 4096) - $Room
            if ($pad -lt 0) { $pad += 4096 }
            [IO.File]::AppendAllText($Path, "`n" * $pad)
            ((Get-Item -LiteralPath $Path).Length + $Room) % 4096 | Should -Be 0
        }

        function Get-PendingLineLength([string] $Key) {
            ('{"key":"' + $Key + '","state":"pending","time":"2026-01-01T00:00:00.000Z"}' + "`n").Length
        }
    }

    AfterAll {
        if (-not $NoMount) { & umount $Disk }
    }

    BeforeEach {
        if ($NoMount) { return }
        Reset-Sandbox
        $script:Session = New-TestSession
        Get-ChildItem -LiteralPath $Disk | Remove-Item -Force
    }

    It 'a journal that cannot be created is AosJournalWriteFailed: nothing is sent and no file is left' {
        if ($NoMount) { Set-ItResult -Skipped -Because $NoMount; return }
        Set-DiskFull
        $journal = Join-Path $Disk 'new.jsonl'
        $result = Invoke-Captured { New-Row E1 | Send-AosMessage -JournalPath $journal -JournalKey EmployeeId }
        Assert-OneError $result AosJournalWriteFailed WriteError -MessageLike "The journal '$journal' could not be created: *No space left on device*Nothing was sent."
        $result.Errors[0].TargetObject | Should -BeExactly $journal
        @($result.Requests | Where-Object Command -EQ sdmailact).Count | Should -Be 0
        Test-Path -LiteralPath $journal | Should -BeFalse
    }

    It 'a row whose pending line cannot be written is not sent, nor is any row after it' {
        if ($NoMount) { Set-ItResult -Skipped -Because $NoMount; return }
        $journal = Join-Path $Disk 'notices.jsonl'
        $null = New-Row E1 | Send-AosMessage -JournalPath $journal -JournalKey EmployeeId
        Set-JournalEnd $journal -Room 0
        Set-DiskFull
        $before = [IO.File]::ReadAllBytes($journal)
        Clear-SandboxRequest

        $result = Invoke-Captured { (New-Row E2 2), (New-Row E3 3) | Send-AosMessage -JournalPath $journal -JournalKey EmployeeId -ErrorAction Continue }
        $result.Errors.Count | Should -BeGreaterOrEqual 1
        $result.Errors | ForEach-Object { $_ | Get-ErrorId | Should -BeExactly 'AosJournalWriteFailed' }
        $result.Errors[0].Exception.Message | Should -BeLike "Could not write to the journal '$journal'*No space left on device*No further message is sent*"
        @($result.Requests | Where-Object Command -EQ sdmailact).Count | Should -Be 0
        @(Get-SandboxSpool).Count | Should -Be 1
        [IO.File]::ReadAllBytes($journal) | Should -Be $before -Because 'nothing of the failed line is left'
    }

    It 'a row the server confirmed whose sent line cannot be written is AosJournalSentNotRecorded; the rerun reports it, and sends nothing' {
        if ($NoMount) { Set-ItResult -Skipped -Because $NoMount; return }
        $journal = Join-Path $Disk 'notices.jsonl'
        $null = New-Row E1 | Send-AosMessage -JournalPath $journal -JournalKey EmployeeId
        # Room for row E2's pending line in the last page, none for its sent line.
        Set-JournalEnd $journal -Room (Get-PendingLineLength E2)
        Set-DiskFull
        Clear-SandboxRequest

        $result = Invoke-Captured { (New-Row E2 2), (New-Row E3 3) | Send-AosMessage -JournalPath $journal -JournalKey EmployeeId -ErrorAction Continue }
        $result.Errors.Count | Should -BeGreaterOrEqual 1
        $result.Errors[0] | Get-ErrorId | Should -BeExactly 'AosJournalSentNotRecorded'
        $result.Errors[0].CategoryInfo.Category | Should -Be WriteError
        $result.Errors[0].Exception.Message | Should -BeLike "Row 1 (*) was sent. The server confirmed this message, but the journal '$journal' could not record it (*No space left on device*). A rerun with this journal reports it as of unknown outcome*"
        @($result.Requests | Where-Object Command -EQ sdmailact).Count | Should -Be 1 -Because 'row E3 is not sent once a record is missing'
        @(Get-SandboxSpool).Count | Should -Be 2
        $last = @(Read-JournalLine $journal)[-1]
        $last.key | Should -BeExactly 'E2'
        $last.state | Should -BeExactly 'pending'

        # With room again, the rerun reports E2 as of unknown outcome (it was sent) and sends E3.
        Remove-Item -LiteralPath (Join-Path $Disk 'filler')
        Clear-SandboxRequest
        $rerun = Invoke-Captured { (New-Row E2 2), (New-Row E3 3) | Send-AosMessage -JournalPath $journal -JournalKey EmployeeId -ErrorAction Continue }
        Assert-OneError $rerun AosOutcomeUnknown InvalidOperation -MessageLike "*row with EmployeeId 'E2'*"
        @($rerun.Requests | Where-Object Command -EQ sdmailact).Count | Should -Be 1
        @(Get-SandboxSpool).Count | Should -Be 3
    }
}
