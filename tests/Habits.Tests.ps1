# Send-MailMessage habits a migrating script brings along: address lists in one string (RFC 5322
# commas, quoted display names, Outlook's ';'), an unquoted display name with a comma refused with
# the quoted form as the hint, and a CSV Attachments cell naming several files separated by ';'.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Send-MailMessage habits' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    It 'takes address lists in one string: commas, quoted names and Outlook''s ";" in -To, -Cc, -Bcc and -ReplyTo' {
        Send-AosMessage -To 'alice@sandbox.test; "Doe, John" <john@example.org>' -Cc 'carbon@example.org, Bob Example <bob@sandbox.test>' `
            -Bcc 'hidden@example.org;second@example.org;' -ReplyTo 'help@sandbox.test; desk@sandbox.test' -Subject 'lists' -Body 'x'
        Assert-FieldList (Get-OnlySend) @(
            @('api', 'lc'),
            @('mto', 'alice@sandbox.test, "Doe, John" <john@example.org>'),
            @('mcc', 'carbon@example.org, Bob Example <bob@sandbox.test>'),
            @('mbcc', 'hidden@example.org, second@example.org'),
            @('msub', 'lists'), @('body', 'x'),
            @('mheader', 'Reply-To: help@sandbox.test, desk@sandbox.test'),
            @('snd', 'checked'))
        @((Get-OnlySpool).Envelope.Recipients | Sort-Object) |
            Should -Be @('alice@sandbox.test', 'bob@sandbox.test', 'carbon@example.org', 'hidden@example.org', 'john@example.org', 'second@example.org')
    }

    It 'takes a CSV row whose To cell is an Outlook list' {
        $csv = Join-Path $TestDrive 'list.csv'
        @('To,Subject,Body', '"alice@sandbox.test; bob@sandbox.test",csv list,x') | Set-Content -LiteralPath $csv -Encoding UTF8
        Import-Csv -LiteralPath $csv | Send-AosMessage
        Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test, bob@sandbox.test'), @('msub', 'csv list'), @('body', 'x'), @('snd', 'checked'))
    }

    It 'refuses an unquoted display name with a comma before any request, showing the quoted form' {
        $result = Invoke-Captured { Send-AosMessage -To 'Doe, John <john@example.org>' -Subject 's' -Body 'x' }
        Assert-OneError $result -ErrorId AosInvalidAddress -Category InvalidArgument `
            -MessageLike "The To entry 'Doe, John <john@example.org>' has a display name with a comma that is not in quotes*'`"Doe, John`" <john@example.org>'*"
        $result.Errors[0].TargetObject | Should -BeExactly 'Doe, John <john@example.org>'
        $result.Requests.Count | Should -Be 0
    }

    It 'attaches every file a CSV Attachments cell names, separated by ";", in order' {
        Push-Location $TestDrive
        try {
            'first' | Set-Content -LiteralPath 'a.txt' -Encoding UTF8
            'second' | Set-Content -LiteralPath 'b.txt' -Encoding UTF8
            [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'two files'; Body = 'x'; Attachments = 'a.txt; b.txt' } | Send-AosMessage
        }
        finally { Pop-Location }
        $mail = Get-OnlyMessage -User 'alice@sandbox.test'
        @($mail.Attachments.FileName) | Should -Be @('a.txt', 'b.txt')
        @($mail.Attachments | ForEach-Object { [Text.Encoding]::UTF8.GetString((Get-PartBytes $_)).Trim([char]0xFEFF).Trim() }) | Should -Be @('first', 'second')
    }

    It 'takes a file whose own name holds ";" whole' {
        $odd = Join-Path $TestDrive 'odd;name.txt'
        'odd' | Set-Content -LiteralPath $odd -Encoding UTF8
        Send-AosMessage -To 'alice@sandbox.test' -Subject 'odd name' -Body 'x' -Attachments $odd
        @((Get-OnlyMessage -User 'alice@sandbox.test').Attachments.FileName) | Should -Be @('odd;name.txt')
    }

    It 'names the missing file of a ";" list and sends nothing' {
        'first' | Set-Content -LiteralPath (Join-Path $TestDrive 'a.txt') -Encoding UTF8
        $cell = "$(Join-Path $TestDrive 'a.txt');$(Join-Path $TestDrive 'missing.txt')"
        $result = Invoke-Captured { [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 's'; Attachments = $cell } | Send-AosMessage }
        Assert-OneError $result -ErrorId AosAttachmentNotFound -Category ObjectNotFound -MessageLike '*missing.txt*'
        $result.Requests.Count | Should -Be 0
    }
}
