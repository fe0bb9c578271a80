# Send-AosMessage -JournalPath, one row at a time: a row's sent line goes to disk with the next
# row's pending line (one flush per row), so its result comes out when the next row is read, and
# still before the next row's request starts. What a script downstream sees: each result after its
# sent line is in the journal and before any later row was sent; Select-Object -First 1 sends one
# row and the journal records the row read after it as not sent.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function New-Row([int] $N) {
        [pscustomobject]@{ EmployeeId = 'E{0:d4}' -f $N; To = 'alice@sandbox.test'; Subject = "Flush notice $N"; Body = "Body of notice $N" }
    }

    # The journal as another process sees it while the command holds it (cat takes no lock).
    function Read-JournalOnDisk([string] $Path) {
        & cat $Path | Select-Object -Skip 1 | ForEach-Object { $_ | ConvertFrom-Json -DateKind String }
    }
}

Describe 'Send journal, one row at a time' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
        $script:Journal = Join-Path $TestDrive ([guid]::NewGuid().ToString('n') + '.jsonl')
    }

    It 'writes each result after its sent line is in the journal and before the next row is sent' {
        $seen = [System.Collections.Generic.List[object]]::new()
        1..4 | ForEach-Object { New-Row $_ } | Send-AosMessage -JournalPath $Journal -JournalKey EmployeeId -PassThru | ForEach-Object {
            $id = 'E{0:d4}' -f [int]($_.Subject -replace '\D')
            $lines = @(Read-JournalOnDisk $Journal)
            $seen.Add([pscustomobject]@{
                    Id    = $id
                    Sent  = @($lines | Where-Object { $_.key -eq $id -and $_.state -eq 'sent' }).Count
                    Sends = @(Get-SandboxRequest -Command sdmailact).Count
                })
        }
        @($seen.Id) | Should -Be 'E0001', 'E0002', 'E0003', 'E0004'
        $seen | ForEach-Object { $_.Sent | Should -Be 1 -Because "the sent line of $($_.Id) is in the journal when its result comes out" }
        @($seen.Sends) | Should -Be 1, 2, 3, 4 -Because 'no later row is sent before a result comes out'
        @(Read-JournalOnDisk $Journal).state | Should -Be 'pending', 'sent', 'pending', 'sent', 'pending', 'sent', 'pending', 'sent'
    }

    It 'Select-Object -First 1 sends one row; the row read after it is recorded as not sent, and a rerun sends the rest' {
        $rows = 1..3 | ForEach-Object { New-Row $_ }
        $first = @($rows | Send-AosMessage -JournalPath $Journal -JournalKey EmployeeId -PassThru | Select-Object -First 1)
        $first.Subject | Should -BeExactly 'Flush notice 1'
        @(Get-SandboxSpool).Count | Should -Be 1
        $records = @(Read-JournalOnDisk $Journal)
        @($records | ForEach-Object { "$($_.key) $($_.state) $($_.error)".Trim() }) | Should -Be 'E0001 pending', 'E0001 sent', 'E0002 pending', 'E0002 failed NotStarted'

        $rerun = Invoke-Captured { $rows | Send-AosMessage -JournalPath $Journal -JournalKey EmployeeId -PassThru }
        $rerun.Errors.Count | Should -Be 0 -Because ($rerun.Errors | Out-String)
        @($rerun.Output.Skipped) | Should -Be $true, $false, $false
        @(Get-SandboxSpool).Count | Should -Be 3
    }
}
