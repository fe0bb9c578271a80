# Send-AosMessage in the pipeline: one message per record, binding by property name, blank CSV
# cells as "none", a failing row as one non-terminating error carrying the row, later rows going on.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    # 55 rows: 49 good, 6 bad (keys below). Priorities cycle through blank, numbers and names.
    $script:PriorityCycle = @(
        @{ Cell = ''; Wire = $null }, @{ Cell = '1'; Wire = '1' }, @{ Cell = 'High'; Wire = '2' },
        @{ Cell = 'low'; Wire = '4' }, @{ Cell = '5'; Wire = '5' }, @{ Cell = 'Normal'; Wire = '3' })
    $script:BadRows = @{
        7  = @{ Column = 'To'; Value = 'not-an-address'; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument' }
        15 = @{ Column = 'Subject'; Value = "bad`r`nsubject"; ErrorId = 'AosInvalidSubject'; Category = 'InvalidArgument' }
        23 = @{ Column = 'Attachments'; Value = 'missing.bin'; ErrorId = 'AosAttachmentNotFound'; Category = 'ObjectNotFound' }
        31 = @{ Column = 'Priority'; Value = '6'; ErrorId = 'AosInvalidPriority'; Category = 'InvalidArgument' }
        42 = @{ Column = 'DraftId'; Value = '../x'; ErrorId = 'AosInvalidDraftId'; Category = 'InvalidArgument' }
        # Not a priority at all: PowerShell leaves the parameter unbound, the module reads the cell.
        47 = @{ Column = 'Priority'; Value = 'Urgent'; ErrorId = 'AosInvalidPriority'; Category = 'InvalidArgument' }
    }

    function New-Row {
        param([int] $Key)
        $to = switch ($Key % 3) { 0 { 'alice@sandbox.test' } 1 { 'Bob Example <bob@sandbox.test>' } 2 { "user$Key@example.org" } }
        [pscustomobject][ordered]@{
            Key         = $Key
            To          = $to
            Cc          = if ($Key % 4 -eq 0) { 'carbon@example.org' } else { '' }
            Bcc         = if ($Key % 5 -eq 0) { 'hidden@example.org' } else { '' }
            Subject     = 'Row {0:D3}' -f $Key
            Body        = "Body of row $Key`nsecond line"
            Priority    = $PriorityCycle[$Key % $PriorityCycle.Count].Cell
            Attachments = if ($Key % 10 -eq 0) { 'att.bin' } else { '' }
            DraftId     = ''
        }
    }
}

Describe 'The pipeline' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    Describe 'Import-Csv | Send-AosMessage -KeepCopy' {
        BeforeAll {
            $script:Folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'csv')
            $script:Attachment = New-RandomFile -Path (Join-Path $Folder 'att.bin') -Size 2000
            $rows = foreach ($key in 1..55) {
                $row = New-Row -Key $key
                if ($BadRows.ContainsKey($key)) { $row.($BadRows[$key].Column) = $BadRows[$key].Value }
                $row
            }
            $script:CsvPath = Join-Path $Folder 'rows.csv'
            $rows | Export-Csv -LiteralPath $CsvPath -NoTypeInformation -Encoding utf8
        }

        It 'sends each good row exactly once, in order, and reports each bad row once with the row as target' {
            $rows = @(Import-Csv -LiteralPath $CsvPath)
            $rows.Count | Should -Be 55
            $rows[14].Subject | Should -Match '\n' -Because 'the CSV keeps the line break of row 15'

            Push-Location $Folder
            try {
                $errs = $null
                $out = @($rows | Send-AosMessage -KeepCopy -ErrorAction SilentlyContinue -ErrorVariable errs)
            }
            finally { Pop-Location }
            $out.Count | Should -Be 0

            # Errors: exactly one per bad row, non-terminating, the row as target, the right id.
            $errs = @($errs)
            $errs.Count | Should -Be $BadRows.Count
            @($errs | ForEach-Object { [int]$_.TargetObject.Key }) | Should -Be @($BadRows.Keys | Sort-Object)
            foreach ($err in $errs) {
                $bad = $BadRows[[int]$err.TargetObject.Key]
                $err | Get-ErrorId | Should -BeExactly $bad.ErrorId
                $err.CategoryInfo.Category | Should -Be $bad.Category
                @($err.TargetObject.PSObject.Properties.Name) | Should -Be @('Key', 'To', 'Cc', 'Bcc', 'Subject', 'Body', 'Priority', 'Attachments', 'DraftId')
            }

            # The wire: one sdmailact per good row, in row order, and nothing for a bad one.
            $good = @($rows | Where-Object { -not $BadRows.ContainsKey([int]$_.Key) })
            $good.Count | Should -Be 49
            $sends = @(Get-SandboxRequest -Command sdmailact)
            $sends.Count | Should -Be $good.Count
            @(Get-SandboxRequest -Command login).Count | Should -Be 1
            for ($i = 0; $i -lt $good.Count; $i++) {
                $row = $good[$i]
                $key = [int]$row.Key
                $fields = $sends[$i].Fields
                ($fields | Where-Object Name -EQ 'msub').Value | Should -BeExactly $row.Subject
                $expectedNames = @('api', 'mto')
                if ($row.Cc) { $expectedNames += 'mcc' }
                if ($row.Bcc) { $expectedNames += 'mbcc' }
                $expectedNames += 'msub', 'body'
                $wirePriority = $PriorityCycle[$key % $PriorityCycle.Count].Wire
                if ($wirePriority) { $expectedNames += 'mprio' }
                if ($row.Attachments) { $expectedNames += 'mheader' }
                $expectedNames += 'snd', 'keepcopy'
                (@($fields.Name) -join ',') | Should -BeExactly ($expectedNames -join ',') -Because "row $key"
                if ($wirePriority) { ($fields | Where-Object Name -EQ 'mprio').Value | Should -BeExactly $wirePriority -Because "row $key" }
                if (-not $row.Attachments) {
                    ($fields | Where-Object Name -EQ 'body').Value | Should -BeExactly "Body of row $key`r`nsecond line"
                }
            }

            # The store: each good subject exactly once in the spool and the Outbox.
            $spool = @(Get-SandboxSpool)
            $spool.Count | Should -Be $good.Count
            $spooled = @($spool | ForEach-Object { (Read-MimeMessage -Path $_.Path).Subject } | Sort-Object)
            $spooled | Should -Be @($good.Subject | Sort-Object)
            @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Outbox).Count | Should -Be $good.Count
            $aliceRows = @($good | Where-Object { $_.To -eq 'alice@sandbox.test' })
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be $aliceRows.Count

            # Rows with the relative attachment carry the file, byte for byte.
            $withFile = @($good | Where-Object Attachments)
            $withFile.Count | Should -Be 5
            $expected = [Convert]::ToBase64String([IO.File]::ReadAllBytes($Attachment.FullName))
            foreach ($item in $spool) {
                $mail = Read-MimeMessage -Path $item.Path
                $row = $good | Where-Object Subject -EQ $mail.Subject
                $attachments = @($mail.Attachments)
                if ($row.Attachments) {
                    $attachments.Count | Should -Be 1 -Because $mail.Subject
                    $attachments[0].FileName | Should -BeExactly 'att.bin'
                    [Convert]::ToBase64String((Get-PartBytes $attachments[0])) | Should -BeExactly $expected
                }
                else {
                    $attachments.Count | Should -Be 0 -Because $mail.Subject
                }
            }
        }
    }

    Describe 'Strings and objects down the pipeline' {
        It 'makes one piped string the body (several are refused: tests/Compose.Tests.ps1)' {
            'first text' | Send-AosMessage -To 'alice@sandbox.test' -Subject 'piped'
            $sends = @(Get-SandboxRequest -Command sdmailact)
            $sends.Count | Should -Be 1
            Assert-FieldList $sends[0] @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'piped'), @('body', 'first text'), @('snd', 'checked'))
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 1
        }

        It 'binds Priority names and numbers from objects' {
            @(
                [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'p-name'; Priority = 'Lowest' }
                [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'p-number'; Priority = 2 }
                [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'p-text'; Priority = '4' }
            ) | Send-AosMessage
            $sends = @(Get-SandboxRequest -Command sdmailact)
            $sends.Count | Should -Be 3
            @($sends | ForEach-Object { ($_.Fields | Where-Object Name -EQ 'mprio').Value }) | Should -Be @('5', '2', '4')
        }

        It 'writes a failing row as a non-terminating error and goes on' {
            $rows = @(
                [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'ok 1' }
                [pscustomobject]@{ To = 'a@'; Subject = 'broken' }
                [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'ok 2' }
            )
            $errs = $null
            # Run directly: a terminating error would fail this test on its own.
            $rows | Send-AosMessage -ErrorAction SilentlyContinue -ErrorVariable errs
            @($errs).Count | Should -Be 1
            $errs[0] | Get-ErrorId | Should -BeExactly 'AosInvalidAddress'
            [object]::ReferenceEquals($errs[0].TargetObject, $rows[1]) | Should -BeTrue
            @(Get-SandboxRequest -Command sdmailact | ForEach-Object { ($_.Fields | Where-Object Name -EQ 'msub').Value }) | Should -Be @('ok 1', 'ok 2')
        }
    }
}
