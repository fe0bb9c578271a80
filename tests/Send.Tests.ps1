# Send-AosMessage and Save-AosDraft on the wire (B5 to B12): the whole sdmailact form, field by
# field and in order, and the message the sandbox stored from it (spool, Inbox, Outbox). The draft
# workflow (saving, overwriting, DraftId) is in Draft.Tests.ps1.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    $script:MimeText = "MIME-Version: 1.0`r`nContent-Type: text/plain; charset=utf-8`r`nContent-Transfer-Encoding: 8bit"
    # One or more RFC 2047 UTF-8 encoded-words, nothing else, all ASCII.
    $script:EncodedWords = [regex]'(?i)^=\?utf-8\?[bq]\?[!->@-~]+\?=( =\?utf-8\?[bq]\?[!->@-~]+\?=)*$'
}

Describe 'Send-AosMessage and Save-AosDraft on the wire' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    Describe 'Send-AosMessage: the sdmailact form and the stored message' {
        It 'sends api, mto, snd only, for a bare -To' {
            Send-AosMessage -To 'alice@sandbox.test'
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('snd', 'checked'))
            $mail = Get-OnlyMessage -User 'alice@sandbox.test'
            @($mail.From.Mailboxes)[0].Address | Should -BeExactly 'demo@sandbox.test'
            @($mail.To.Mailboxes.Address) | Should -Be @('alice@sandbox.test')
        }

        It 'sends an ASCII subject as is and a plain ASCII body with CRLF line endings and no mheader' {
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'Hello there' -Body "line one`nline two`r`nline three"
            Assert-FieldList (Get-OnlySend) @(
                @('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'Hello there'),
                @('body', "line one`r`nline two`r`nline three"), @('snd', 'checked'))
            $item = @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox)
            $item.Count | Should -Be 1
            $mail = Read-MimeMessage -Path $item[0].Path
            $mail.Subject | Should -BeExactly 'Hello there'
            (Get-MessageBodyText -Path $item[0].Path) | Should -BeLike "line one`r`nline two`r`nline three*"
            (Get-MessageHeaderText -Path $item[0].Path) | Should -Not -Match '(?im)^(MIME-Version|Content-Type):'
        }

        It 'sends -To, -Cc, -Bcc as one list each; Bcc only in the envelope' {
            Send-AosMessage -To 'alice@sandbox.test', 'Bob Example <bob@sandbox.test>' -Cc 'carbon@example.org', '"Doe, John" <john@example.org>' `
                -Bcc 'hidden@example.org' -Subject 'lists' -Body 'x'
            Assert-FieldList (Get-OnlySend) @(
                @('api', 'lc'),
                @('mto', [regex]'^alice@sandbox\.test, "?Bob Example"? <bob@sandbox\.test>$'),
                @('mcc', 'carbon@example.org, "Doe, John" <john@example.org>'),
                @('mbcc', 'hidden@example.org'),
                @('msub', 'lists'), @('body', 'x'), @('snd', 'checked'))

            $spool = Get-OnlySpool
            $spool.Envelope.From | Should -BeExactly 'demo@sandbox.test'
            @($spool.Envelope.Recipients | Sort-Object) |
                Should -Be @('alice@sandbox.test', 'bob@sandbox.test', 'carbon@example.org', 'hidden@example.org', 'john@example.org')
            $mail = Read-MimeMessage -Path $spool.Path
            @($mail.To.Mailboxes.Address) | Should -Be @('alice@sandbox.test', 'bob@sandbox.test')
            @($mail.To.Mailboxes)[1].Name | Should -BeExactly 'Bob Example'
            @($mail.Cc.Mailboxes.Address) | Should -Be @('carbon@example.org', 'john@example.org')
            @($mail.Cc.Mailboxes)[1].Name | Should -BeExactly 'Doe, John'
            $mail.Bcc.Count | Should -Be 0
            (Get-MessageHeaderText -Path $spool.Path) | Should -Not -Match '(?im)^Bcc:|hidden@example\.org'
            # Local recipients get it in their Inbox, each exactly once.
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 1
            @(Get-SandboxMessage -User 'bob@sandbox.test' -Mailbox Inbox).Count | Should -Be 1
            @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Outbox).Count | Should -Be 0
        }

        It 'delivers a Bcc-only local recipient without naming it in the message' {
            Send-AosMessage -To 'alice@sandbox.test' -Bcc 'bob@sandbox.test' -Subject 'blind' -Body 'x'
            $mail = Get-OnlyMessage -User 'bob@sandbox.test'
            $mail.Subject | Should -BeExactly 'blind'
            $mail.Bcc.Count | Should -Be 0
            $path = @(Get-SandboxMessage -User 'bob@sandbox.test' -Mailbox Inbox)[0].Path
            (Get-MessageHeaderText -Path $path) | Should -Not -Match '(?i)bob@sandbox\.test'
        }

        It 'splits a comma-separated list given as one string into the same mto' {
            Send-AosMessage -To 'alice@sandbox.test, bob@sandbox.test' -Subject 's'
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test, bob@sandbox.test'), @('msub', 's'), @('snd', 'checked'))
        }

        It 'RFC 2047-encodes a non-ASCII subject and display name, and the stored message decodes them' {
            $subject = 'Grüße aus Köln – 100 €'
            Send-AosMessage -To 'Jörg Müller <joerg@example.org>', 'alice@sandbox.test' -Subject $subject -Body 'x'
            $send = Get-OnlySend
            Assert-FieldList $send @(
                @('api', 'lc'),
                @('mto', [regex]'(?i)^[ -~]*=\?utf-8\?[bq]\?[ -~]*<joerg@example\.org>, alice@sandbox\.test$'),
                @('msub', $EncodedWords),
                @('body', 'x'), @('snd', 'checked'))
            $mail = Get-OnlyMessage -User 'alice@sandbox.test'
            $mail.Subject | Should -BeExactly $subject
            @($mail.To.Mailboxes)[0].Name | Should -BeExactly 'Jörg Müller'
            @($mail.To.Mailboxes)[0].Address | Should -BeExactly 'joerg@example.org'
        }

        It 'sends a non-ASCII plain body as UTF-8 8bit with the three MIME headers' {
            $body = "Grüße,`nZeile zwei – ça va? 日本"
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'utf8' -Body $body
            Assert-FieldList (Get-OnlySend) @(
                @('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'utf8'),
                @('body', $body.Replace("`n", "`r`n")), @('mheader', $MimeText), @('snd', 'checked'))
            $mail = Get-OnlyMessage -User 'alice@sandbox.test'
            ($mail.TextBody -replace '\r?\n', "`n").TrimEnd() | Should -BeExactly $body
            $mail.Body.ContentType.Charset | Should -BeExactly 'utf-8'
            # The stored bytes: UTF-8, CRLF, exactly as sent.
            $path = @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox)[0].Path
            (Get-MessageBodyText -Path $path).StartsWith($body.Replace("`n", "`r`n"), [StringComparison]::Ordinal) | Should -BeTrue
        }

        It 'sends -Priority <Given> as mprio=<Wire> and the stored message has X-Priority' -ForEach @(
            @{ Given = 2; Wire = '2' }
            @{ Given = 'High'; Wire = '2' }
            @{ Given = 'enum:High'; Wire = '2' }  # [AosMail.AosPriority]::High, made in the test (the type is not loaded at discovery)
            @{ Given = '1'; Wire = '1' }
            @{ Given = 'lowest'; Wire = '5' }
        ) {
            if ($Given -is [string] -and $Given.StartsWith('enum:')) { $Given = [AosMail.AosPriority]$Given.Substring(5); $Given | Should -BeOfType ([AosMail.AosPriority]) }
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'prio' -Priority $Given
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'prio'), @('mprio', $Wire), @('snd', 'checked'))
            $mail = Get-OnlyMessage -User 'alice@sandbox.test'
            $mail.Headers['X-Priority'] | Should -Match "^$Wire\b"
        }

        It 'sends -KeepCopy as keepcopy=checked after snd, and keeps an Outbox copy' {
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'keep me' -Body 'x' -KeepCopy
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'keep me'), @('body', 'x'), @('snd', 'checked'), @('keepcopy', 'checked'))
            (Get-OnlyMessage -User 'demo@sandbox.test' -Mailbox Outbox).Subject | Should -BeExactly 'keep me'
            (Get-OnlyMessage -User 'alice@sandbox.test').Subject | Should -BeExactly 'keep me'
        }

        It 'keeps no Outbox copy without -KeepCopy' {
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'no copy'
            @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Outbox).Count | Should -Be 0
        }
    }

    Describe 'Send-AosMessage: long and empty values' {
        It 'keeps a long non-ASCII subject on one line (no folding) and the stored subject decodes to it' {
            $subject = ('Größenänderung der Übersicht für Kunden – ' * 6).Trim()
            Send-AosMessage -To 'alice@sandbox.test' -Subject $subject
            $send = Get-OnlySend
            $msub = ($send.Fields | Where-Object Name -EQ 'msub').Value
            $msub | Should -Not -Match '[\r\n]'
            $msub | Should -Match $EncodedWords
            (Get-OnlyMessage -User 'alice@sandbox.test').Subject | Should -BeExactly $subject
        }

        It 'keeps a long ASCII subject as is, on one line' {
            $subject = 'Quarterly figures ' * 12
            Send-AosMessage -To 'alice@sandbox.test' -Subject $subject.Trim()
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', $subject.Trim()), @('snd', 'checked'))
        }

        It 'sends an ASCII subject of 989 characters, the longest a Subject line of 998 holds, intact' {
            $subject = 'x' * 989
            Send-AosMessage -To 'alice@sandbox.test' -Subject $subject
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', $subject), @('snd', 'checked'))
            (Get-OnlyMessage -User 'alice@sandbox.test').Subject | Should -BeExactly $subject
        }

        It 'writes 40 recipients as one unfolded list' {
            $to = @(1..40 | ForEach-Object { "Recipient Number $_ <recipient.number.$_@example.org>" }) + 'alice@sandbox.test'
            Send-AosMessage -To $to -Subject 'many'
            $mto = ((Get-OnlySend).Fields | Where-Object Name -EQ 'mto').Value
            $mto | Should -Not -Match '[\r\n]'
            @($mto -split ', ').Count | Should -Be 41
            $mto | Should -BeLike 'Recipient Number 1 <recipient.number.1@example.org>, *, alice@sandbox.test'
            $spool = Get-OnlySpool
            @($spool.Envelope.Recipients).Count | Should -Be 41
            @((Read-MimeMessage -Path $spool.Path).To.Mailboxes).Count | Should -Be 41
        }

        It 'encodes a long non-ASCII header value so that the stored message decodes it' {
            $value = 'Schöne Grüße aus der Buchhaltung, ' * 5
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'h' -Header @{ 'X-Note' = $value.Trim() }
            $mheader = ((Get-OnlySend).Fields | Where-Object Name -EQ 'mheader').Value
            $mheader | Should -Match '^X-Note: '
            $mheader | Should -Match '^[ -~\r\n\t]*$' -Because 'the value is RFC 2047-encoded (ASCII only)'
            (Get-OnlyMessage -User 'alice@sandbox.test').Headers['X-Note'] | Should -BeExactly $value.Trim()
        }

        It 'leaves out an empty subject and an empty body' {
            Send-AosMessage -To 'alice@sandbox.test' -Subject '' -Body ''
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('snd', 'checked'))
        }
    }

    Describe 'Send-AosMessage -Header' {
        It 'keeps the order of an [ordered] dictionary and formats numbers invariantly' {
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'h' -Header ([ordered]@{ 'X-Company' = 'Afteroffice'; 'X-Ticket' = 42; 'X-Amount' = 1.5 })
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'h'),
                @('mheader', "X-Company: Afteroffice`r`nX-Ticket: 42`r`nX-Amount: 1.5"), @('snd', 'checked'))
            $mail = Get-OnlyMessage -User 'alice@sandbox.test'
            $mail.Headers['X-Company'] | Should -BeExactly 'Afteroffice'
            $mail.Headers['X-Ticket'] | Should -BeExactly '42'
            $mail.Headers['X-Amount'] | Should -BeExactly '1.5'
        }

        It 'sorts a plain hashtable by name and repeats a header for an array value' {
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'h' -Header @{ 'X-Zeta' = 'z'; 'X-Alpha' = 'a'; 'X-Tag' = 'one', 'two' }
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'h'),
                @('mheader', "X-Alpha: a`r`nX-Tag: one`r`nX-Tag: two`r`nX-Zeta: z"), @('snd', 'checked'))
            $mail = Get-OnlyMessage -User 'alice@sandbox.test'
            @($mail.Headers | Where-Object Field -EQ 'X-Tag' | ForEach-Object Value) | Should -Be @('one', 'two')
        }

        It 'puts user headers first and the MIME headers last, and encodes a non-ASCII value' {
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'h' -Body 'Grüße' -Header ([ordered]@{ 'X-Company' = 'A'; 'X-Note' = 'Schöne Grüße' })
            $send = Get-OnlySend
            Assert-FieldList $send @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'h'), @('body', 'Grüße'),
                @('mheader', [regex]('(?i)^X-Company: A\r\nX-Note: =\?utf-8\?[bq]\?[ -~]+\?=\r\n' + [regex]::Escape($MimeText) + '$')), @('snd', 'checked'))
            $mail = Get-OnlyMessage -User 'alice@sandbox.test'
            $mail.Headers['X-Note'] | Should -BeExactly 'Schöne Grüße'
            $mail.TextBody.TrimEnd() | Should -BeExactly 'Grüße'
        }
    }

    Describe 'Send-AosMessage: HTML and attachments (MimeKit-built)' {
        It 'sends -BodyAsHtml with MIME-Version and a text/html Content-Type in mheader' {
            $html = '<p>Hello <b>world</b> – grüß dich</p>'
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'html' -Body $html -BodyAsHtml
            $send = Get-OnlySend
            @($send.Fields.Name) -join ',' | Should -BeExactly 'api,mto,msub,body,mheader,snd'
            $mheader = ($send.Fields | Where-Object Name -EQ 'mheader').Value -split "`r`n"
            $mheader[0] | Should -BeExactly 'MIME-Version: 1.0'
            $mheader[1] | Should -Match '(?i)^Content-Type: text/html; charset=utf-8$'
            $mheader.Count | Should -BeIn 2, 3
            if ($mheader.Count -eq 3) { $mheader[2] | Should -Match '^Content-Transfer-Encoding: (7bit|8bit|quoted-printable|base64)$' }
            ($send.Fields | Where-Object Name -EQ 'body').Value | Should -Not -Match '(?<!\r)\n'
            $mail = Get-OnlyMessage -User 'alice@sandbox.test'
            $mail.HtmlBody.TrimEnd() | Should -BeExactly $html
        }

        It 'attaches files byte for byte, a non-ASCII file name included' {
            $a = New-RandomFile -Path (Join-Path $TestDrive 'data.bin') -Size 4096
            $b = New-RandomFile -Path (Join-Path $TestDrive 'Größe Bericht.bin') -Size 70000
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'files' -Body "see attached`nthanks" -Attachments $a.FullName, $b.FullName
            $send = Get-OnlySend
            @($send.Fields.Name) -join ',' | Should -BeExactly 'api,mto,msub,body,mheader,snd'
            $mheader = ($send.Fields | Where-Object Name -EQ 'mheader').Value -split "`r`n"
            $mheader[0] | Should -BeExactly 'MIME-Version: 1.0'
            $mheader[1] -match '^Content-Type: multipart/mixed; boundary="?([^"]+)"?$' | Should -BeTrue -Because "mheader was '$($mheader -join '\r\n')'"
            $boundary = $Matches[1]
            $mheader.Count | Should -BeIn 2, 3
            ($send.Fields | Where-Object Name -EQ 'body').Value | Should -Match ([regex]::Escape("--$boundary"))

            # B9: the entity's content with CRLF line endings, no bare LF anywhere.
            ($send.Fields | Where-Object Name -EQ 'body').Value | Should -Not -Match '(?<!\r)\n'
            $raw = Get-MessageBodyText -Path @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox)[0].Path
            $raw | Should -Not -Match '(?<!\r)\n'
            $raw | Should -Match "see attached`r`nthanks"

            $mail = Get-OnlyMessage -User 'alice@sandbox.test'
            ($mail.TextBody -replace '\r?\n', "`n").TrimEnd() | Should -BeExactly "see attached`nthanks"
            $attachments = @($mail.Attachments)
            $attachments.Count | Should -Be 2
            $attachments[0].FileName | Should -BeExactly 'data.bin'
            $attachments[1].FileName | Should -BeExactly 'Größe Bericht.bin'
            [Convert]::ToBase64String((Get-PartBytes $attachments[0])) | Should -BeExactly ([Convert]::ToBase64String([IO.File]::ReadAllBytes($a.FullName)))
            [Convert]::ToBase64String((Get-PartBytes $attachments[1])) | Should -BeExactly ([Convert]::ToBase64String([IO.File]::ReadAllBytes($b.FullName)))
        }

        It 'sends HTML with an attachment as multipart/mixed holding the HTML part and the file' {
            $file = New-RandomFile -Path (Join-Path $TestDrive 'report.pdf') -Size 3000
            $html = '<h1>Report</h1><p>Attached.</p>'
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'html+file' -Body $html -BodyAsHtml -Attachments $file.FullName
            $send = Get-OnlySend
            @($send.Fields.Name) -join ',' | Should -BeExactly 'api,mto,msub,body,mheader,snd'
            $mheader = ($send.Fields | Where-Object Name -EQ 'mheader').Value -split "`r`n"
            $mheader[0] | Should -BeExactly 'MIME-Version: 1.0'
            $mheader[1] | Should -Match '^Content-Type: multipart/mixed; boundary='
            $mail = Get-OnlyMessage -User 'alice@sandbox.test'
            $mail.HtmlBody.TrimEnd() | Should -BeExactly $html
            $attachments = @($mail.Attachments)
            $attachments.Count | Should -Be 1
            $attachments[0].FileName | Should -BeExactly 'report.pdf'
            [Convert]::ToBase64String((Get-PartBytes $attachments[0])) | Should -BeExactly ([Convert]::ToBase64String([IO.File]::ReadAllBytes($file.FullName)))
        }

        It 'takes a PowerShell drive path and a file name with wildcard characters' {
            $a = New-RandomFile -Path (Join-Path $TestDrive 'on-drive.bin') -Size 500
            $b = New-RandomFile -Path (Join-Path $TestDrive 'report[1].bin') -Size 600
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'paths' -Attachments 'TestDrive:/on-drive.bin', $b.FullName
            $attachments = @((Get-OnlyMessage -User 'alice@sandbox.test').Attachments)
            @($attachments.FileName) | Should -Be @('on-drive.bin', 'report[1].bin')
            [Convert]::ToBase64String((Get-PartBytes $attachments[0])) | Should -BeExactly ([Convert]::ToBase64String([IO.File]::ReadAllBytes($a.FullName)))
            [Convert]::ToBase64String((Get-PartBytes $attachments[1])) | Should -BeExactly ([Convert]::ToBase64String([IO.File]::ReadAllBytes($b.FullName)))
        }

        It 'sends a 3 MB attachment intact, and RequestBytes is what went over the wire' {
            $big = New-RandomFile -Path (Join-Path $TestDrive 'big.bin') -Size (3MB)
            $r = Send-AosMessage -To 'alice@sandbox.test' -Subject 'big' -Attachments $big.FullName -PassThru
            $send = Get-OnlySend
            $r.RequestBytes | Should -Be $send.ContentLength
            $r.RequestBytes | Should -BeGreaterThan (4MB) -Because 'base64 grows 3 MB by a third'
            $attachment = @((Get-OnlyMessage -User 'alice@sandbox.test').Attachments)
            $attachment.Count | Should -Be 1
            [Convert]::ToBase64String((Get-PartBytes $attachment[0])) | Should -BeExactly ([Convert]::ToBase64String([IO.File]::ReadAllBytes($big.FullName)))
        }

        It 'resolves a relative attachment path against the PowerShell location, not the process directory' {
            $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'here')
            $file = New-RandomFile -Path (Join-Path $folder 'relative.bin') -Size 1000
            Push-Location $folder
            try {
                [Environment]::CurrentDirectory | Should -Not -Be $folder.FullName
                Send-AosMessage -To 'alice@sandbox.test' -Subject 'rel' -Attachments 'relative.bin'
            }
            finally { Pop-Location }
            $attachment = @((Get-OnlyMessage -User 'alice@sandbox.test').Attachments)
            $attachment.Count | Should -Be 1
            $attachment[0].FileName | Should -BeExactly 'relative.bin'
            [Convert]::ToBase64String((Get-PartBytes $attachment[0])) | Should -BeExactly ([Convert]::ToBase64String([IO.File]::ReadAllBytes($file.FullName)))
        }
    }

    Describe 'Send-AosMessage: -PassThru, -WhatIf, -Confirm' {
        It 'takes "<Answer>" as success (B13: OK in any case, trimmed)' -ForEach @(
            @{ Answer = 'ok'; Expected = 'ok' }
            @{ Answer = "  OK`r`n"; Expected = 'OK' }
        ) {
            Add-SandboxFault -Command sdmailact -Action text -Text $Answer
            $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'answer' -PassThru }
            $result.Errors.Count | Should -Be 0
            $result.Output[0].ServerAnswer | Should -BeExactly $Expected
            @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 1
        }

        It 'writes nothing without -PassThru' {
            $out = @(Send-AosMessage -To 'alice@sandbox.test' -Subject 'quiet')
            $out.Count | Should -Be 0
        }

        It 'writes one AosSendResult with -PassThru' {
            $file = New-RandomFile -Path (Join-Path $TestDrive 'r.bin') -Size 100
            $before = Get-Date
            $out = @(Send-AosMessage -To 'alice@sandbox.test' -Cc 'Carl <carl@example.org>' -Bcc 'bob@sandbox.test' -Subject 'receipt' -Body 'x' -Attachments $file.FullName -PassThru)
            $out.Count | Should -Be 1
            $r = $out[0]
            $r | Should -BeOfType ([AosMail.AosSendResult])
            $r.Action | Should -BeExactly 'Send'
            @($r.To) | Should -Be @('alice@sandbox.test')
            @($r.Cc) | Should -Be @('carl@example.org')
            @($r.Bcc) | Should -Be @('bob@sandbox.test')
            $r.Subject | Should -BeExactly 'receipt'
            @($r.Attachments) | Should -Be @('r.bin')
            $r.DraftId | Should -BeNullOrEmpty
            $r.Server.TrimEnd('/') | Should -BeExactly $Sandbox.BaseUri
            $r.UserName | Should -BeExactly 'demo@sandbox.test'
            $r.Submitted | Should -BeGreaterOrEqual $before.AddSeconds(-1)
            $r.Submitted | Should -BeLessOrEqual (Get-Date).AddSeconds(1)
            $r.Duration | Should -BeOfType ([timespan])
            $r.Duration | Should -BeGreaterThan ([timespan]::Zero)
            $r.ServerAnswer | Should -BeExactly 'OK'
            $r.RequestBytes | Should -Be (Get-OnlySend).ContentLength
            $r.SessionRenewed | Should -BeFalse
        }

        It 'makes no request with -WhatIf and says what would go to whom' {
            $transcript = Join-Path $TestDrive 'whatif.txt'
            $before = @(Get-SandboxRequest).Count
            $null = Start-Transcript -Path $transcript
            try {
                $out = @(Send-AosMessage -To 'alice@sandbox.test' -Cc 'bob@sandbox.test' -Subject 'would go' -Body 'x' -WhatIf)
            }
            finally { $null = Stop-Transcript }
            $out.Count | Should -Be 0
            @(Get-SandboxRequest).Count | Should -Be $before
            @(Get-SandboxSpool).Count | Should -Be 0
            $text = Get-Content -Raw -LiteralPath $transcript
            $line = @($text -split '\r?\n' | Where-Object { $_ -like 'What if:*' })
            $line.Count | Should -Be 1
            $line[0] | Should -BeLike '*Send message*'
            $line[0] | Should -BeLike "*'would go'*"
            $line[0] | Should -BeLike '*alice@sandbox.test*'
            $line[0] | Should -BeLike '*bob@sandbox.test*'
        }

        It 'makes no request at all with -WhatIf in the one-shot form (not even a login)' {
            $result = Invoke-Captured {
                Send-AosMessage -Server $Sandbox.BaseUri -Credential (New-TestCredential) -AllowUnencryptedAuthentication -To 'alice@sandbox.test' -Subject 'nope' -WhatIf
            }
            $result.Errors.Count | Should -Be 0
            $result.Requests.Count | Should -Be 0
        }

        It 'makes no request with Save-AosDraft -WhatIf' {
            $before = @(Get-SandboxRequest).Count
            $out = @(Save-AosDraft -To 'alice@sandbox.test' -Subject 'not saved' -WhatIf)
            $out.Count | Should -Be 0
            @(Get-SandboxRequest).Count | Should -Be $before
            @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Draft).Count | Should -Be 0
        }

        It 'sends with -Confirm:$false' {
            Send-AosMessage -To 'alice@sandbox.test' -Subject 'confirmed' -Confirm:$false
            (Get-OnlyMessage -User 'alice@sandbox.test').Subject | Should -BeExactly 'confirmed'
        }
    }

    Describe 'Send-AosMessage: the one-shot -Server/-Credential form' {
        It 'logs in, sends once, and leaves the default session alone' {
            $alice = New-TestCredential -UserName 'alice@sandbox.test' -Password 'Alice-Passw0rd'
            $result = Invoke-Captured {
                Send-AosMessage -Server $Sandbox.BaseUri -Credential $alice -AllowUnencryptedAuthentication -To 'bob@sandbox.test' -Subject 'one shot' -Body 'x' -PassThru
            }
            $result.Errors.Count | Should -Be 0
            @($result.Requests.Command) | Should -Be @('login', 'sdmailact')
            Assert-FieldList $result.Requests[0] @(@('api', 'lc'), @('name', 'alice'), @('host', 'sandbox.test'), @('pswd', '<masked>'))
            $result.Output[0].UserName | Should -BeExactly 'alice@sandbox.test'
            (Get-OnlySpool).Envelope.From | Should -BeExactly 'alice@sandbox.test'

            # The newest session is still the demo one: the one-shot connection was not kept.
            Send-AosMessage -To 'bob@sandbox.test' -Subject 'after' -Body 'x'
            $after = @(Get-SandboxSpool | Where-Object { (Read-MimeMessage -Path $_.Path).Subject -eq 'after' })
            $after.Count | Should -Be 1
            $after[0].Envelope.From | Should -BeExactly 'demo@sandbox.test'
        }
    }

    Describe 'The one-shot form over https' {
        It 'sends with -SkipCertificateCheck and warns once' {
            $https = (Get-TestSandbox).HttpsBaseUri
            $result = Invoke-Captured {
                Send-AosMessage -Server $https -Credential (New-TestCredential) -SkipCertificateCheck -To 'alice@sandbox.test' -Subject 'tls one shot'
            }
            $result.Errors.Count | Should -Be 0
            $result.Warnings.Count | Should -Be 1
            @($result.Requests.Command) | Should -Be @('login', 'sdmailact')
            (Get-OnlyMessage -User 'alice@sandbox.test').Subject | Should -BeExactly 'tls one shot'
        }
    }

    Describe 'Send-AosMessage -DraftId' {
        It 'sends every field in B5 order when all are given' {
            $null = Save-AosDraft -Subject 'base'
            $id = @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Draft)[0].Id
            Send-AosMessage -DraftId $id -To 'alice@sandbox.test' -Cc 'bob@sandbox.test' -Bcc 'hidden@example.org' -Subject 'all' -Body 'b' `
                -Priority Highest -Header ([ordered]@{ 'X-Run' = 'full' }) -KeepCopy
            $sends = @(Get-SandboxRequest -Command sdmailact)
            $sends.Count | Should -Be 2
            Assert-FieldList $sends[1] @(
                @('api', 'lc'), @('mid', $id), @('mto', 'alice@sandbox.test'), @('mcc', 'bob@sandbox.test'), @('mbcc', 'hidden@example.org'),
                @('msub', 'all'), @('body', 'b'), @('mprio', '1'), @('mheader', 'X-Run: full'), @('snd', 'checked'), @('keepcopy', 'checked'))
            $mail = Get-OnlyMessage -User 'bob@sandbox.test'
            $mail.Subject | Should -BeExactly 'all'
            $mail.Headers['X-Run'] | Should -BeExactly 'full'
            (Get-OnlyMessage -User 'demo@sandbox.test' -Mailbox Outbox).Subject | Should -BeExactly 'all'
        }
    }
}
