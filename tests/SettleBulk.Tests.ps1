# Settling at scale (issue "done when"): many rows with -KeepCopy -ThrottleLimit 16 while the
# sandbox loses answers after acting (dropAfter, dropMidAnswer, a 503 after acting) and refuses some
# sends before acting (a 503): every row ends sent exactly once, none unknown, the store holds no
# duplicate and misses nothing. AOS_SETTLE_ROWS sets the row count (1,000 by default).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:RowCount = if ($env:AOS_SETTLE_ROWS) { [int]$env:AOS_SETTLE_ROWS } else { 1000 }
}

Describe 'Settling many rows under lost answers' {
    BeforeAll {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    It 'ends every row of <RowCount> sent exactly once, settling each lost answer, with -RetryUnknown for the rows never acted on' {
        # One send in ten is faulted, in turn: dropAfter, dropMidAnswer, a 503 after acting, a 503 before acting.
        $kinds = @(
            @{ Action = 'dropAfter' }
            @{ Action = 'dropMidAnswer' }
            @{ Action = 'statusAfter'; StatusCode = 503; Text = 'busy' }
            @{ Action = 'status'; StatusCode = 503; Text = 'busy' }
        )
        $faulted = @{}
        for ($i = 0; $i -lt $RowCount / 10; $i++) {
            Add-SandboxFault -Command sdmailact -Action delay -DelayMs 0 -Times 9
            $kind = $kinds[$i % $kinds.Count]
            Add-SandboxFault -Command sdmailact @kind
            $faulted[$kind.Action] = 1 + [int]$faulted[$kind.Action]
        }
        $rows = 1..$RowCount | ForEach-Object { [pscustomobject]@{ To = 'r{0:d4}@example.net' -f $_; Subject = "Notice $_"; Body = "Dear reader $_, this is notice $_." } }

        $result = Invoke-Captured { $rows | Send-AosMessage -KeepCopy -RetryUnknown -ThrottleLimit 16 -PassThru }

        $result.Errors.Count | Should -Be 0 -Because (($result.Errors | Select-Object -First 5 | Out-String))
        $result.Output.Count | Should -Be $RowCount
        # The store: each row's mail in the spool exactly once, and its copy in the Outbox once.
        $delivered = @{}
        foreach ($item in Get-SandboxSpool) {
            foreach ($recipient in $item.Envelope.Recipients) { $delivered[$recipient] = 1 + [int]$delivered[$recipient] }
        }
        $missing = @($rows | Where-Object { -not $delivered[$_.To] })
        $twice = @($rows | Where-Object { $delivered[$_.To] -gt 1 })
        $missing.Count | Should -Be 0
        $twice.Count | Should -Be 0
        @(Get-SandboxMessage -User $env:AOS_SANDBOX_USER -Mailbox Outbox).Count | Should -Be $RowCount

        # Every answer lost after acting was settled by its copy; every send refused before acting was sent once more.
        $settled = @($result.Output | Where-Object SettledAs)
        $settled.Count | Should -Be ($faulted['dropAfter'] + $faulted['dropMidAnswer'] + $faulted['statusAfter'])
        $sends = @($result.Requests | Where-Object Command -EQ sdmailact).Count
        $sends | Should -Be ($RowCount + $faulted['status'])
        $lists = @($result.Requests | Where-Object Command -EQ openbox).Count
        $reads = @($result.Requests | Where-Object Command -EQ rdmail).Count
        Write-Host ("Settle bulk: {0} rows in {1:n1} s; {2} settled by their copy, {3} resent after four looks; {4} sends, {5} listings, {6} reads." -f `
                $RowCount, $result.Elapsed.TotalSeconds, $settled.Count, $faulted['status'], $sends, $lists, $reads)
    }
}
