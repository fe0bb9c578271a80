# What admins compose beyond text, HTML and files, through the built module against the sandbox:
# a text alternative (-TextBody), inline images (-InlineAttachments), attachments from memory,
# -ReplyTo, -RequestReadReceipt, -BodyPath/-Encoding, piped strings, and attachments that are
# not regular files or change while they are sent. Each checks the wire fields exactly and the
# stored message parsed with MimeKit.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Http = $Sandbox.BaseUri

    function Get-FieldValue {
        param($Request, [string] $Name)
        ($Request.Fields | Where-Object Name -EQ $Name).Value
    }

    function ConvertTo-Base64 {
        param([byte[]] $Bytes)
        [Convert]::ToBase64String($Bytes)
    }

    # (A multipart is never piped into Should: it would enumerate its parts.)

    # A multipart Content-Type line in mheader, its boundary captured.
    function Get-Boundary {
        param([string] $Mheader, [string] $Subtype)
        $line = @($Mheader -split "`r`n" | Where-Object { $_ -like 'Content-Type:*' })
        $line.Count | Should -Be 1
        $line[0] -match "^Content-Type: multipart/$Subtype; boundary=`"?([^`";]+)`"?" | Should -BeTrue -Because $line[0]
        $Matches[1]
    }
}

Describe 'Composing' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    Describe '-TextBody' {
        It 'sends HTML with a text alternative as multipart/alternative, the text first' {
            Send-AosMessage -To alice@sandbox.test -Subject 'two bodies' -Body '<p>Hello <b>Alice</b></p>' -BodyAsHtml -TextBody "Hello Alice`nplain"
            $send = Get-OnlySend
            Assert-FieldList $send @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'two bodies'),
                @('body', [regex]'^--'), @('mheader', [regex]'^MIME-Version: 1\.0\r\nContent-Type: multipart/alternative; boundary='), @('snd', 'checked'))
            $mail = Get-OnlyMessage -User alice@sandbox.test
            Should -ActualValue $mail.Body -BeOfType ([MimeKit.MultipartAlternative])
            @($mail.Body).Count | Should -Be 2
            @($mail.Body)[0].ContentType.MimeType | Should -Be 'text/plain'
            @($mail.Body)[1].ContentType.MimeType | Should -Be 'text/html'
            ($mail.TextBody -replace '\r?\n', "`n").TrimEnd() | Should -BeExactly "Hello Alice`nplain"
            $mail.HtmlBody.TrimEnd() | Should -BeExactly '<p>Hello <b>Alice</b></p>'
        }

        It 'sends -TextBody alone as the plain body' {
            Save-AosDraft -To alice@sandbox.test -Subject 'text only' -TextBody "plain`ntext" | Out-Null
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'text only'), @('body', "plain`r`ntext"), @('svdrf', 'checked'))
        }

        It 'binds TextBody from a CSV row' {
            [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'row'; Body = '<p>row</p>'; TextBody = 'row' } | Send-AosMessage -BodyAsHtml
            Should -ActualValue (Get-OnlyMessage -User alice@sandbox.test).Body -BeOfType ([MimeKit.MultipartAlternative])
        }
    }

    Describe '-InlineAttachments' {
        It 'sends inline images as multipart/related with Content-ID and inline disposition, inside the alternative and the mixed part' {
            $logo = New-RandomFile -Path (Join-Path $TestDrive 'logo.png') -Size 3000
            $report = New-RandomFile -Path (Join-Path $TestDrive 'report.pdf') -Size 2000
            $chart = [byte[]](1..200 | ForEach-Object { $_ })
            Send-AosMessage -To alice@sandbox.test -Subject 'newsletter' -BodyAsHtml -TextBody 'See the chart.' `
                -Body '<p><img src="cid:logo"> News</p><img src=''cid:chart.1@example.org''>' `
                -InlineAttachments ([ordered]@{ logo = $logo.FullName; 'chart.1@example.org' = @{ Name = 'chart.gif'; Content = $chart } }) `
                -Attachments $report.FullName
            $send = Get-OnlySend
            @($send.Fields.Name) -join ',' | Should -BeExactly 'api,mto,msub,body,mheader,snd'
            $null = Get-Boundary (Get-FieldValue $send mheader) 'mixed'

            $mail = Get-OnlyMessage -User alice@sandbox.test
            $mixed = $mail.Body
            $mixed.ContentType.MimeType | Should -Be 'multipart/mixed'
            $alternative = @($mixed)[0]
            Should -ActualValue $alternative -BeOfType ([MimeKit.MultipartAlternative])
            @($alternative)[0].ContentType.MimeType | Should -Be 'text/plain'
            $related = @($alternative)[1]
            Should -ActualValue $related -BeOfType ([MimeKit.MultipartRelated])
            $related.Root.ContentType.MimeType | Should -Be 'text/html'
            $images = @($related | Select-Object -Skip 1)
            @($images.ContentId) | Should -Be @('logo', 'chart.1@example.org')
            foreach ($image in $images) { $image.ContentDisposition.Disposition | Should -Be 'inline' }
            $images[0].ContentType.MimeType | Should -Be 'image/png'
            $images[1].ContentType.MimeType | Should -Be 'image/gif'
            ConvertTo-Base64 (Get-PartBytes $images[0]) | Should -BeExactly (ConvertTo-Base64 ([IO.File]::ReadAllBytes($logo.FullName)))
            ConvertTo-Base64 (Get-PartBytes $images[1]) | Should -BeExactly (ConvertTo-Base64 $chart)
            $attachment = @($mixed)[1]
            $attachment.FileName | Should -Be 'report.pdf'
            $attachment.ContentDisposition.Disposition | Should -Be 'attachment'
            ConvertTo-Base64 (Get-PartBytes $attachment) | Should -BeExactly (ConvertTo-Base64 ([IO.File]::ReadAllBytes($report.FullName)))
            # The raw message really has the headers the HTML refers to.
            (Get-MessageBodyText -Path (Get-SandboxMessage -User alice@sandbox.test -Mailbox Inbox)[0].Path) | Should -Match '(?m)^Content-Id: <logo>\r$'
        }

        It 'saves a draft with an inline image (Save-AosDraft takes the same parameters)' {
            $null = Save-AosDraft -Subject 'draft with logo' -Body '<img src="cid:logo">' -BodyAsHtml -InlineAttachments @{ logo = @{ Name = 'logo.png'; Content = [byte[]](9, 8, 7) } }
            $draft = Get-OnlyMessage -User demo@sandbox.test -Mailbox Draft
            Should -ActualValue $draft.Body -BeOfType ([MimeKit.MultipartRelated])
            @($draft.Body)[1].ContentId | Should -Be 'logo'
        }

        It 'refuses a cid the HTML refers to without an entry (AosMissingInlineAttachment), with no request' {
            $result = Invoke-Captured {
                Send-AosMessage -To alice@sandbox.test -Subject 'broken' -BodyAsHtml -Body '<img src="cid:logo"><img src="cid:Chart">' `
                    -InlineAttachments @{ logo = @{ Name = 'l.png'; Content = [byte[]](1) }; chart = @{ Name = 'c.png'; Content = [byte[]](1) } }
            }
            Assert-OneError $result -ErrorId AosMissingInlineAttachment -Category ObjectNotFound -MessageLike "*'cid:Chart'*case-sensitive*"
            $result.Errors[0].TargetObject | Should -Be 'Chart'
            $result.Requests.Count | Should -Be 0
        }

        It 'warns about an inline attachment the HTML never shows, and sends it' {
            $result = Invoke-Captured {
                Send-AosMessage -To alice@sandbox.test -Subject 'unused' -BodyAsHtml -Body '<p>Order CID:42 shipped</p>' `
                    -InlineAttachments @{ logo = @{ Name = 'l.png'; Content = [byte[]](1, 2) } }
            }
            $result.Errors.Count | Should -Be 0
            $result.Warnings.Count | Should -Be 1
            "$($result.Warnings[0])" | Should -BeLike "*'logo' is not referred to*"
            @((Get-OnlyMessage -User alice@sandbox.test).Body)[1].ContentId | Should -Be 'logo'
        }

        It 'refuses inline attachments without an HTML body (AosConflictingParameters), with no request' {
            $result = Invoke-Captured {
                Send-AosMessage -To alice@sandbox.test -Subject 'plain' -Body 'text' -InlineAttachments @{ logo = @{ Name = 'l.png'; Content = [byte[]](1) } }
            }
            Assert-OneError $result -ErrorId AosConflictingParameters -Category InvalidArgument -MessageLike '*-BodyAsHtml*'
            $result.Requests.Count | Should -Be 0
        }
    }

    Describe 'Attachments from memory' {
        It 'attaches <Case> byte for byte, the content type from the name' -ForEach @(
            @{ Case = 'a hashtable with bytes'; Name = 'report.csv'; Type = 'text/csv'; Make = { param($bytes) @{ Name = 'report.csv'; Content = $bytes } } }
            @{ Case = 'an object with a stream'; Name = 'data.bin'; Type = 'application/octet-stream'; Make = { param($bytes) [pscustomobject]@{ Name = 'data.bin'; Content = [IO.MemoryStream]::new($bytes) } } }
            @{ Case = 'a non-ASCII name (RFC 2231)'; Name = 'Übersicht März.pdf'; Type = 'application/pdf'; Make = { param($bytes) @{ Name = 'Übersicht März.pdf'; Content = $bytes } } }
        ) {
            $bytes = [byte[]]::new(5000)
            [Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
            Send-AosMessage -To alice@sandbox.test -Subject 'memory' -Body 'attached' -Attachments (& $Make $bytes)
            $attachment = @((Get-OnlyMessage -User alice@sandbox.test).Attachments)
            $attachment.Count | Should -Be 1
            $attachment[0].FileName | Should -BeExactly $Name
            $attachment[0].ContentType.MimeType | Should -Be $Type
            ConvertTo-Base64 (Get-PartBytes $attachment[0]) | Should -BeExactly (ConvertTo-Base64 $bytes)
            if ($Name -notmatch '^[ -~]+$') {
                (Get-FieldValue (Get-OnlySend) body) | Should -Match "filename\*=(iso-8859-1|utf-8)''"
            }
        }

        It 'takes text content as UTF-8, a FileInfo, and a path, together' {
            $file = New-RandomFile -Path (Join-Path $TestDrive 'from-get-item.bin') -Size 700
            $result = Send-AosMessage -To alice@sandbox.test -Subject 'mixed kinds' -PassThru `
                -Attachments @{ Name = 'notes.txt'; Content = 'Grüße, Zeile 1' }, (Get-Item -LiteralPath $file.FullName), $file.FullName
            @($result.Attachments) | Should -Be @('notes.txt', 'from-get-item.bin', 'from-get-item.bin')
            $attachments = @((Get-OnlyMessage -User alice@sandbox.test).Attachments)
            [Text.Encoding]::UTF8.GetString((Get-PartBytes $attachments[0])) | Should -BeExactly 'Grüße, Zeile 1'
            ConvertTo-Base64 (Get-PartBytes $attachments[1]) | Should -BeExactly (ConvertTo-Base64 ([IO.File]::ReadAllBytes($file.FullName)))
        }
    }

    Describe '-ReplyTo and -RequestReadReceipt' {
        It 'writes Reply-To and Disposition-Notification-To (the sending account) after the user headers' {
            Send-AosMessage -To alice@sandbox.test -Subject 'reply elsewhere' -Body 'x' -Header @{ 'X-Company' = 'Example' } `
                -ReplyTo 'Help Desk <help@sandbox.test>', 'bob@sandbox.test' -RequestReadReceipt
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'reply elsewhere'), @('body', 'x'),
                @('mheader', "X-Company: Example`r`nReply-To: Help Desk <help@sandbox.test>, bob@sandbox.test`r`nDisposition-Notification-To: demo@sandbox.test"),
                @('snd', 'checked'))
            $mail = Get-OnlyMessage -User alice@sandbox.test
            @($mail.ReplyTo.Mailboxes.Address) | Should -Be @('help@sandbox.test', 'bob@sandbox.test')
            $mail.Headers['Disposition-Notification-To'] | Should -BeExactly 'demo@sandbox.test'
        }

        It 'binds ReplyTo from a CSV row and checks it like To' {
            $rows = @(
                [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'good'; ReplyTo = 'help@sandbox.test' }
                [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'bad'; ReplyTo = "help`u{2028}@sandbox.test" }
            )
            $rows | Send-AosMessage -ErrorVariable problems -ErrorAction SilentlyContinue
            @($problems).Count | Should -Be 1
            $problems[0] | Get-ErrorId | Should -BeExactly 'AosInvalidAddress'
            @((Get-OnlyMessage -User alice@sandbox.test).ReplyTo.Mailboxes.Address) | Should -Be @('help@sandbox.test')
        }
    }

    Describe '-BodyPath and -Encoding' {
        It 'reads the body from a UTF-8 file (relative to the PowerShell location)' {
            $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'bodies')
            [IO.File]::WriteAllText((Join-Path $folder 'body.txt'), "Grüße`nZeile zwei", [Text.UTF8Encoding]::new($false))
            Push-Location $folder
            try { Send-AosMessage -To alice@sandbox.test -Subject 'from a file' -BodyPath body.txt } finally { Pop-Location }
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'from a file'),
                @('body', "Grüße`r`nZeile zwei"), @('mheader', "MIME-Version: 1.0`r`nContent-Type: text/plain; charset=utf-8`r`nContent-Transfer-Encoding: 8bit"), @('snd', 'checked'))
        }

        It 'reads a file in another encoding with -Encoding <Encoding>' -ForEach @(
            @{ Encoding = 'latin1'; Writer = 'iso-8859-1' }
            @{ Encoding = 1252; Writer = 'windows-1252' }
            @{ Encoding = 'unicode'; Writer = 'utf-16' }
        ) {
            $path = Join-Path $TestDrive "body-$Writer.txt"
            [IO.File]::WriteAllBytes($path, [Text.Encoding]::GetEncoding($Writer).GetBytes('Größe und Maße'))
            Send-AosMessage -To alice@sandbox.test -Subject 'encoded' -BodyPath $path -Encoding $Encoding
            (Get-FieldValue (Get-OnlySend) body) | Should -BeExactly 'Größe und Maße'
        }

        It 'sends an HTML file as the HTML body, and binds BodyPath from a CSV row' {
            $html = Join-Path $TestDrive 'page.html'
            Set-Content -LiteralPath $html -Value '<h1>From a file</h1>' -NoNewline
            [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = 'html file'; BodyPath = $html } | Send-AosMessage -BodyAsHtml
            (Get-OnlyMessage -User alice@sandbox.test).HtmlBody.TrimEnd() | Should -BeExactly '<h1>From a file</h1>'
        }

        It 'reads a file with Windows PowerShell 5.1''s -Encoding <Encoding>, meaning what 5.1 means' -ForEach @(
            @{ Encoding = 'Default'; Writer = { [Text.Encoding]::GetEncoding([Globalization.CultureInfo]::CurrentCulture.TextInfo.ANSICodePage) } }
            @{ Encoding = 'OEM'; Writer = { [Text.Encoding]::GetEncoding([Globalization.CultureInfo]::CurrentCulture.TextInfo.OEMCodePage) } }
            @{ Encoding = 'String'; Writer = { [Text.Encoding]::Unicode } }
            @{ Encoding = 'UTF7'; Writer = { [Text.UTF7Encoding]::new() } }
            @{ Encoding = 'BigEndianUTF32'; Writer = { [Text.UTF32Encoding]::new($true, $false) } }
        ) {
            $path = Join-Path $TestDrive "body-51-$Encoding.txt"
            [IO.File]::WriteAllBytes($path, (& $Writer).GetBytes('Größe und Maße'))
            Send-AosMessage -To alice@sandbox.test -Subject 'encoded 5.1' -BodyPath $path -Encoding $Encoding
            (Get-FieldValue (Get-OnlySend) body) | Should -BeExactly 'Größe und Maße'
        }

        It 'refuses -Encoding Byte with what to do instead, before any request' {
            { Send-AosMessage -To alice@sandbox.test -Subject 'bytes' -BodyPath (Join-Path $TestDrive 'x.txt') -Encoding Byte } |
                Should -Throw -ErrorId 'ParameterArgumentTransformationError,AosMail.Commands.SendAosMessageCommand' -ExpectedMessage '*reads bytes, not text*-Attachments*'
            @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
        }

        It 'accepts -Encoding with -Body, as Send-MailMessage scripts give it, and sends the body as UTF-8' {
            Send-AosMessage -To alice@sandbox.test -Subject 'encoding with body' -Body 'Grüße' -Encoding latin1
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'encoding with body'),
                @('body', 'Grüße'), @('mheader', "MIME-Version: 1.0`r`nContent-Type: text/plain; charset=utf-8`r`nContent-Transfer-Encoding: 8bit"), @('snd', 'checked'))
        }

        It 'completes -Encoding with the names it takes' {
            $line = 'Send-AosMessage -Encoding utf8'
            @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @('utf8', 'utf8BOM', 'utf8NoBOM')
        }
    }

    Describe 'Strings down the pipeline' {
        It 'sends one piped string as the body of one message, and does not attach the file Get-Content read it from' {
            $file = Join-Path $TestDrive 'raw.txt'
            Set-Content -LiteralPath $file -Value "first line`nsecond line" -NoNewline
            # Get-Content's strings carry a PSPath, which -Attachments (alias PsPath) would bind by property name.
            Get-Content -Raw -LiteralPath $file | Send-AosMessage -To alice@sandbox.test -Subject 'raw file'
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'raw file'), @('body', "first line`r`nsecond line"), @('snd', 'checked'))
        }

        It 'refuses several piped strings (the lines of Get-Content) as AosAmbiguousPipelineInput, sending nothing' {
            $file = Join-Path $TestDrive 'lines.txt'
            Set-Content -LiteralPath $file -Value 'line one', 'line two', 'line three'
            $result = Invoke-Captured { Get-Content -LiteralPath $file | Send-AosMessage -To alice@sandbox.test -Subject 'lines' }
            Assert-OneError $result -ErrorId AosAmbiguousPipelineInput -Category InvalidArgument -MessageLike '3 strings were piped*-BodyPath*Get-Content -Raw*'
            $result.Requests.Count | Should -Be 0
            { 'a', 'b' | Save-AosDraft -Subject 'two' -ErrorAction Stop } | Should -Throw -ErrorId 'AosAmbiguousPipelineInput,AosMail.Commands.SaveAosDraftCommand'
            @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
        }
    }

    Describe 'The help examples' {
        It 'runs <Command> example <Index> against the sandbox' -ForEach @(
            @{ Command = 'Send-AosMessage'; Index = 6; User = 'alice@sandbox.test'; Mailbox = 'Inbox'; Count = 1; Inline = $true }
            @{ Command = 'Send-AosMessage'; Index = 7; User = 'alice@sandbox.test'; Mailbox = 'Inbox'; Count = 2; Inline = $false }
            @{ Command = 'Save-AosDraft'; Index = 5; User = 'demo@sandbox.test'; Mailbox = 'Draft'; Count = 1; Inline = $true }
        ) {
            $code = [string]@((Get-Help $Command -Full).examples.example)[$Index - 1].code
            Push-Location $TestDrive
            try { $result = Invoke-Captured ([scriptblock]::Create($code)) } finally { Pop-Location }
            $result.Errors.Count | Should -Be 0 -Because ($result.Errors | Out-String)
            $result.Warnings.Count | Should -Be 0 -Because ($result.Warnings | Out-String)
            $stored = @(Get-SandboxMessage -User $User -Mailbox $Mailbox)
            $stored.Count | Should -Be $Count
            foreach ($item in $stored) {
                $mail = Read-MimeMessage -Path $item.Path
                if ($Inline) {
                    Should -ActualValue $mail.Body -BeOfType ([MimeKit.Multipart])
                    @($mail.BodyParts | Where-Object ContentId).Count | Should -Be 1 -Because 'the example shows one inline image'
                }
                else {
                    $mail.TextBody.Trim() | Should -BeLike 'Dear Alice,*backup of last night finished.'
                }
            }
        }
    }

    Describe 'Attachments that are not plain files' {
        It 'refuses a FIFO at once (AosInvalidAttachment) instead of blocking, with no request' -Skip:$IsWindows {
            $fifo = Join-Path $TestDrive 'pipe'
            & mkfifo $fifo
            $result = Invoke-Captured { Send-AosMessage -To alice@sandbox.test -Subject 'fifo' -Attachments $fifo }
            Assert-OneError $result -ErrorId AosInvalidAttachment -Category InvalidArgument -MessageLike '*not a regular file*'
            $result.Elapsed.TotalSeconds | Should -BeLessThan 10
            $result.Requests.Count | Should -Be 0
            $result = Invoke-Captured { Send-AosMessage -To alice@sandbox.test -Subject 'fifo' -BodyPath $fifo }
            Assert-OneError $result -ErrorId AosBodyFileNotFound -Category ObjectNotFound -MessageLike '*not a regular file*'
        }

        It 'reports an attachment that <Change> during the upload as AosAttachmentChanged: cut before complete, nothing sent, not retried' -ForEach @(
            @{ Change = 'grows' }, @{ Change = 'shrinks' }
        ) {
            $path = (New-RandomFile -Path (Join-Path $TestDrive "changing-$Change.log") -Size (256KB)).FullName
            # The message is prepared (the file measured) before the one-shot login, which the sandbox holds;
            # meanwhile the file changes, so the upload finds it at another length.
            $changeFile = if ($Change -eq 'grows') { { param($path) $s = [IO.File]::Open($path, 'Open', 'ReadWrite', 'ReadWrite'); try { $null = $s.Seek(0, 'End'); $s.Write([byte[]]::new(1000), 0, 1000) } finally { $s.Dispose() } } }
                      else { { param($path) $s = [IO.File]::Open($path, 'Open', 'ReadWrite', 'ReadWrite'); try { $s.SetLength(1000) } finally { $s.Dispose() } } }
            $result = Invoke-WhileFileChanges -Path $path -Change $changeFile -Send {
                Send-AosMessage -Server $Http -Credential (New-TestCredential) -AllowUnencryptedAuthentication -To alice@sandbox.test -Subject 'changing' -Attachments $path
            }
            (Get-Item -LiteralPath $path).Length | Should -Not -Be (256KB)
            Assert-OneError $result -ErrorId AosAttachmentChanged -Category InvalidData -MessageLike "*'changing-$Change.log'*while it was being sent*cut before it was complete, so nothing was sent*"
            $sends = @($result.Requests | Where-Object Command -EQ 'sdmailact')
            $sends.Count | Should -BeLessOrEqual 1 -Because 'a changed attachment is not retried'
            foreach ($send in $sends) { $send.Status | Should -Be 0 -Because 'the sandbox saw the request end before its body did' }
            @(Get-SandboxSpool).Count | Should -Be 0
            @(Get-SandboxMessage -User alice@sandbox.test -Mailbox Inbox).Count | Should -Be 0
        }
    }
}
