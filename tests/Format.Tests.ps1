# How AosMail's objects look and serialize (src/AosMail/AosMail.Format.ps1xml). The views are
# checked twice: on stand-in objects carrying the real type names (no network), and on real
# objects from the sandbox.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function Get-TableLine([Parameter(ValueFromPipeline)] $InputObject) {
        begin { $all = [System.Collections.Generic.List[object]]::new() }
        process { $all.Add($InputObject) }
        end { ($all | Format-Table | Out-String -Width 250) -split '\r?\n' | Where-Object { $_.Trim() } }
    }
    $script:SessionColumns = 'Id', 'UserName', 'Server', 'Created', 'LastUsed'
    $script:ResultColumns = 'Action', 'To', 'Subject', 'Attachments', 'DurationMs'
    $script:SessionProperties = 'Id', 'Server', 'Proxy', 'UserName', 'Domain', 'Created', 'LastUsed', 'DraftMailbox', 'OutboxMailbox'
    $script:ResultProperties = 'Action', 'To', 'Cc', 'Bcc', 'Subject', 'Attachments', 'DraftId', 'Server', 'UserName',
        'Submitted', 'Duration', 'ServerAnswer', 'SettledAs', 'RequestBytes', 'SessionRenewed', 'Skipped', 'Journal'
    $script:Secret = 'SID[A-Za-z0-9]{4,61}'
}

Describe 'Format views (stand-in objects, no network)' {
    It 'the module loads a table view for <Type>' -ForEach @(@{ Type = 'AosMail.AosSession' }, @{ Type = 'AosMail.AosSendResult' }, @{ Type = 'AosMail.AosMailbox' }, @{ Type = 'AosMail.AosMessageInfo' }) {
        $views = Get-FormatData -TypeName $Type -PowerShellVersion $PSVersionTable.PSVersion
        $views | Should -Not -BeNullOrEmpty
        @($views.FormatViewDefinition.Control | Where-Object { $_ -is [System.Management.Automation.TableControl] }).Count | Should -Be 1
    }

    It 'AosSession: the table has exactly the columns Id, UserName, Server, Created, LastUsed' {
        $fake = [pscustomobject]@{
            PSTypeName = 'AosMail.AosSession'; Id = 7; UserName = 'demo@sandbox.test'; Server = [uri]'http://127.0.0.1:5080/'
            Domain = 'sandbox.test'; Created = [datetime]'2026-01-02 03:04:05'; LastUsed = [datetime]'2026-01-02 03:14:15'
            DraftMailbox = 'Draft'; OutboxMailbox = 'Outbox'
        }
        $lines = $fake | Get-TableLine
        -split $lines[0] | Should -Be $SessionColumns
        $lines[2] | Should -Match '^\s*7\s+demo@sandbox\.test\s+http://127\.0\.0\.1:5080/\s+2026-01-02 03:04\s+2026-01-02 03:14\s*$'
    }

    It 'AosSendResult: the table has exactly the columns Action, To, Subject, Attachments, DurationMs' {
        $fake = [pscustomobject]@{
            PSTypeName = 'AosMail.AosSendResult'; Action = 'Send'; To = @('alice@sandbox.test', 'bob@sandbox.test')
            Subject = 'Q3'; Attachments = @('a.pdf', 'b.csv'); Duration = [timespan]::FromMilliseconds(41.6); ServerAnswer = 'OK'
        }
        $lines = $fake | Get-TableLine
        -split $lines[0] | Should -Be $ResultColumns
        $lines[2] | Should -Match '^Send\s+alice@sandbox\.test; bob@sandbox\.test\s+Q3\s+a\.pdf; b\.csv\s+42\s*$'
    }

    It 'AosSendResult: a row the journal skipped shows Skipped as its action' {
        $fake = [pscustomobject]@{
            PSTypeName = 'AosMail.AosSendResult'; Action = 'Send'; Skipped = $true; To = @('alice@sandbox.test')
            Subject = 'Q3'; Attachments = @(); Duration = [timespan]::Zero; ServerAnswer = 'OK'
        }
        ($fake | Get-TableLine)[2] | Should -Match '^Skipped\s+alice@sandbox\.test\s+Q3\s+0\s*$'
    }

    It 'AosMailbox: the table has exactly the columns Name, Messages, Unread, UserName' {
        $fake = [pscustomobject]@{ PSTypeName = 'AosMail.AosMailbox'; Name = 'Inbox'; MessageCount = 12; UnreadCount = 3; UserName = 'demo@sandbox.test' }
        $lines = $fake | Get-TableLine
        -split $lines[0] | Should -Be 'Name', 'Messages', 'Unread', 'UserName'
        $lines[2] | Should -Match '^Inbox\s+12\s+3\s+demo@sandbox\.test\s*$'
    }

    It 'AosMessageInfo: the table, grouped by mailbox, has exactly the columns Date, From, Subject, Size, Read, Id' {
        $fake = [pscustomobject]@{
            PSTypeName = 'AosMail.AosMessageInfo'; Id = '1795644603258.001'; Mailbox = 'Inbox'; Date = [datetime]'2026-01-02 03:04:05'
            From = 'demo@sandbox.test'; Subject = 'Q3 figures'; Size = 2048; IsRead = $false
        }
        $lines = $fake | Get-TableLine
        $lines[0] | Should -Match '^\s*Mailbox: Inbox\s*$'
        -split $lines[1] | Should -Be 'Date', 'From', 'Subject', 'Size', 'Read', 'Id'
        $lines[3] | Should -Match '^2026-01-02 03:04\s+demo@sandbox\.test\s+Q3 figures\s+2 KB\s+no\s+1795644603258\.001\s*$'
    }

    It 'AosMailMessage: the list view joins recipients and attachment names' {
        $fake = [pscustomobject]@{
            PSTypeName = 'AosMail.AosMailMessage'; Id = '1.001'; Mailbox = 'Inbox'; Date = [datetime]'2026-01-02 03:04:05'
            From = 'demo@sandbox.test'; To = @('alice@sandbox.test', 'bob@sandbox.test'); Cc = @(); Subject = 'Q3'
            ContentType = 'multipart/mixed'; AttachmentNames = @('a.pdf', 'b.csv'); Size = 4096; TextBody = 'Hello'
        }
        $text = $fake | Format-List | Out-String -Width 250
        $text | Should -Match 'To\s+:\s+alice@sandbox\.test; bob@sandbox\.test'
        $text | Should -Match 'Attachments\s+:\s+a\.pdf; b\.csv'
        $text | Should -Match 'Date\s+:\s+2026-01-02 03:04:05'
    }

    It 'AosSendResult: the list view shows the duration in milliseconds and the recipients joined' {
        $fake = [pscustomobject]@{
            PSTypeName = 'AosMail.AosSendResult'; Action = 'SaveDraft'; To = @('alice@sandbox.test'); Cc = @(); Bcc = @()
            Subject = 'Draft'; Attachments = @(); DraftId = $null; UserName = 'demo@sandbox.test'; Server = 'http://127.0.0.1:5080/'
            Submitted = [datetime]'2026-01-02 03:04:05'; Duration = [timespan]::FromSeconds(1.5); ServerAnswer = 'OK'; RequestBytes = 321; SessionRenewed = $false
        }
        $text = $fake | Format-List | Out-String -Width 250
        $text | Should -Match 'DurationMs\s+:\s+1500'
        $text | Should -Match 'Submitted\s+:\s+2026-01-02 03:04:05'
        $text | Should -Match 'To\s+:\s+alice@sandbox\.test'
    }
}

Describe 'Real objects from the sandbox' {
    BeforeAll {
        $session = New-TestSession
        $folder = Join-Path ([IO.Path]::GetTempPath()) ('aos-format-' + [guid]::NewGuid().ToString('n'))
        $null = New-Item -ItemType Directory -Path $folder
        $attachment = Join-Path $folder 'format-test.txt'
        'attached' | Set-Content -LiteralPath $attachment
        $result = Send-AosMessage -Session $session -To alice@sandbox.test -Subject 'Format test' -Body 'Hello' -Attachments $attachment -PassThru -ErrorAction Stop
        $password = $Sandbox.DemoPassword
    }
    AfterAll {
        if ($folder) { Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction Ignore }
    }

    It 'New-AosSession output formats as the session table' {
        $lines = $session | Get-TableLine
        -split $lines[0] | Should -Be $SessionColumns
        $server = ([uri]$Sandbox.BaseUri).GetLeftPart('Authority')
        $lines[2] | Should -Match ("^\s*$($session.Id)\s+demo@sandbox\.test\s+" + [regex]::Escape($server) + '\S*\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d\s*$')
    }

    It 'Send-AosMessage -PassThru output formats as the result table' {
        $lines = $result | Get-TableLine
        -split $lines[0] | Should -Be $ResultColumns
        $lines[2] | Should -Match '^Send\s+alice@sandbox\.test\s+Format test\s+format-test\.txt\s+\d+\s*$'
    }

    It 'ConvertTo-Json of a session has the stable property names and no secret' {
        $json = $session | ConvertTo-Json -Depth 3 -WarningAction Ignore
        @(($json | ConvertFrom-Json).PSObject.Properties.Name) | Sort-Object | Should -Be ($SessionProperties | Sort-Object)
        $json | Should -Not -Match $Secret
        $json | Should -Not -Match ([regex]::Escape($password))
    }

    It 'Export-Csv of a session has the stable columns and no secret' {
        $csv = $session | ConvertTo-Csv -NoTypeInformation | Out-String
        (($csv -split '\r?\n')[0] -replace '"' -split ',') | Sort-Object | Should -Be ($SessionProperties | Sort-Object)
        $csv | Should -Not -Match $Secret
        $csv | Should -Not -Match ([regex]::Escape($password))
    }

    It 'ConvertTo-Json and Export-Csv of a result have the stable names, no secret and no local path' {
        $json = $result | ConvertTo-Json -Depth 3 -WarningAction Ignore
        @(($json | ConvertFrom-Json).PSObject.Properties.Name) | Sort-Object | Should -Be ($ResultProperties | Sort-Object)
        $csvPath = Join-Path $folder 'results.csv'
        $result | Export-Csv -LiteralPath $csvPath -NoTypeInformation
        $csv = Get-Content -Raw -LiteralPath $csvPath
        ((Get-Content -LiteralPath $csvPath -TotalCount 1) -replace '"' -split ',') | Sort-Object | Should -Be ($ResultProperties | Sort-Object)
        foreach ($text in $json, $csv) {
            $text | Should -Not -Match $Secret
            $text | Should -Not -Match ([regex]::Escape($password))
            $text | Should -Not -Match ([regex]::Escape($folder))   # attachment names only, not paths
        }
    }
}
