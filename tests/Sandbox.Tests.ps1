# Proves the AOS sandbox over real HTTP (no module cmdlets): the protocol of
# docs/aos-protocol.md parts A and C, the control API, recording and faults.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Import-MimeKit

    function Send-Mail {
        # sdmailact with the given fields (an ordered dictionary or pairs), api=lc first.
        param([string] $Sid, $Form, [string] $Prefix = '')
        Invoke-AosRaw -Path "$Prefix$Sid.sdmailact.mail.mms" -Form $Form
    }

    function New-Send {
        # The fields of a plain send from demo, in the module's order (B5).
        param([string] $To = 'alice@sandbox.test', [string] $Subject = 'Hello', [string] $Body = "Hi.`r`n")
        [ordered]@{ api = 'lc'; mto = $To; msub = $Subject; body = $Body; snd = 'checked' }
    }

    function Get-Line {
        param([string] $Text)
        if ($Text -eq '') { return @() }
        , @($Text -split "`r`n")
    }

    function Assert-False {
        # The one documented error shape: "false", CRLF, a reason line.
        param($Answer, [string] $Like = '*')
        $Answer.StatusCode | Should -Be 200
        $Answer.Body | Should -Match '^false\r\n\S'
        ($Answer.Body -split "`r`n")[1] | Should -BeLike $Like
    }

    function Assert-NothingStored {
        @(Get-SandboxSpool).Count | Should -Be 0
        foreach ($user in 'demo@sandbox.test', 'alice@sandbox.test', 'bob@sandbox.test') {
            foreach ($box in 'Inbox', 'Draft', 'Outbox') { @(Get-SandboxMessage -User $user -Mailbox $box).Count | Should -Be 0 }
        }
    }

    function Test-LoginWorks {
        Invoke-RawLogin | Should -Match '^SID[A-Za-z0-9]{17}$'
    }
}

Describe 'The AOS sandbox' {
    BeforeEach {
        Reset-Sandbox
    }

    Context 'login' {
        It 'logs in with name, host and pswd (a password full of form-encoding characters)' {
            $Sandbox.DemoPassword | Should -Be 'S3cret&Pass=w0rd%+'
            $answer = Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; name = 'demo'; host = 'sandbox.test'; pswd = $Sandbox.DemoPassword })
            $answer.StatusCode | Should -Be 200
            $answer.ContentType | Should -Be 'text/plain; charset=utf-8'
            $answer.Body | Should -MatchExactly '^SID[A-Za-z0-9]{17}$'
        }

        It 'logs in with id = Base64(name|host|password)' {
            $id = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("demo|sandbox.test|$($Sandbox.DemoPassword)"))
            $answer = Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; id = $id })
            $answer.Body | Should -MatchExactly '^SID[A-Za-z0-9]{17}$'
        }

        It 'logs in with name=user@host and no host' {
            $answer = Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; name = 'alice@sandbox.test'; pswd = 'Alice-Passw0rd' })
            $answer.Body | Should -MatchExactly '^SID[A-Za-z0-9]{17}$'
        }

        It 'refuses a wrong password, a wrong case and an unknown user with the same reason' {
            $wrong = Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; name = 'demo'; host = 'sandbox.test'; pswd = 'nope' })
            $case = Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; name = 'demo'; host = 'sandbox.test'; pswd = $Sandbox.DemoPassword.ToUpperInvariant() })
            $unknown = Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; name = 'nobody'; host = 'sandbox.test'; pswd = $Sandbox.DemoPassword })
            foreach ($answer in $wrong, $case, $unknown) {
                Assert-False $answer 'login failed*'
                $answer.Body | Should -Be $wrong.Body
            }
        }

        It 'refuses a bad id' {
            Assert-False (Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; id = 'not base64!' })) 'login failed*'
            $noBars = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('demo'))
            Assert-False (Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; id = $noBars })) 'login failed*'
        }

        It 'gives a fresh SID on every login' {
            $sids = 1..6 | ForEach-Object { Invoke-RawLogin }
            $sids | ForEach-Object { $_ | Should -MatchExactly '^SID[A-Za-z0-9]{17}$' }
            @($sids | Sort-Object -Unique -CaseSensitive).Count | Should -Be 6
        }

        It 'answers at <Prefix>/ by <Method> with field names in any case' -TestCases @(
            @{ Prefix = ''; Method = 'POST' }
            @{ Prefix = ''; Method = 'GET' }
            @{ Prefix = 'cgi-bin/vo/'; Method = 'POST' }
            @{ Prefix = 'cgi-bin/vo/'; Method = 'GET' }
        ) {
            $login = Invoke-AosRaw -Method $Method -Path "${Prefix}st.login.mms" -Form ([ordered]@{ API = 'lc'; NAME = 'demo'; Host = 'sandbox.test'; PsWd = $Sandbox.DemoPassword })
            $login.Body | Should -MatchExactly '^SID[A-Za-z0-9]{17}$'
            $check = Invoke-AosRaw -Method $Method -Path "${Prefix}sqVry.user.mms" -Form ([ordered]@{ SID = $login.Body })
            $check.Body | Should -BeExactly 'true'
            $send = Invoke-AosRaw -Method $Method -Path "$Prefix$($login.Body).sdmailact.mail.mms" -Form ([ordered]@{ Api = 'lc'; MTO = 'alice@sandbox.test'; MSUB = 'Mixed case'; SND = 'checked' })
            $send.Body | Should -BeExactly 'OK'
            (Read-MimeMessage (Get-SandboxSpool).Path).Subject | Should -BeExactly 'Mixed case'
            (Get-SandboxRequest -Command login).Method | Should -Be $Method
        }

        It 'answers sqVry true for a live session and false for an unknown one' {
            $sid = Invoke-RawLogin
            (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }).Body | Should -BeExactly 'true'
            Assert-False (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = 'SIDAAAAAAAAAAAAAAAAA' }) 'unknown session*'
            Assert-False (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ api = 'lc' }) 'unknown session*'
        }

        It 'answers sqSpec with the profile, one value a line' {
            $sid = Invoke-RawLogin -UserName 'alice@sandbox.test' -Password 'Alice-Passw0rd'
            (Invoke-AosRaw -Path 'sqSpec.user.mms' -Form @{ sid = $sid }).Body | Should -BeExactly "alice`r`nsandbox.test`r`nAlice Example`r`nUTC`r`nen"
            Assert-False (Invoke-AosRaw -Path 'sqSpec.user.mms' -Form @{ sid = 'SIDBBBBBBBBBBBBBBBBB' }) 'unknown session*'
        }
    }

    Context 'sending' {
        BeforeEach {
            $sid = Invoke-RawLogin
        }

        It 'spools the message with a Bcc envelope, delivers local copies and writes no Bcc header' {
            $subject = '=?utf-8?B?' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('Grüße vom Sandbox')) + '?='
            $form = [ordered]@{
                api = 'lc'; mto = 'Alice Example <alice@sandbox.test>'; mcc = 'someone@example.com'; mbcc = 'bob@sandbox.test'
                msub = $subject; body = "Hello Alice,`r`nsecond line.`r`n"; mprio = '1'
                mheader = "X-Company: Afteroffice`r`nX-Trace: abc 123"; snd = 'checked'
            }
            (Send-Mail $sid $form).Body | Should -BeExactly 'OK'

            $spool = @(Get-SandboxSpool)
            $spool.Count | Should -Be 1
            $spool[0].Envelope.From | Should -BeExactly 'demo@sandbox.test'
            $spool[0].Envelope.Recipients | Should -Be @('alice@sandbox.test', 'someone@example.com', 'bob@sandbox.test')
            ([datetimeoffset]$spool[0].Envelope.Submitted - [datetimeoffset]::UtcNow).Duration().TotalSeconds | Should -BeLessThan 60

            $raw = Get-Content -Raw -LiteralPath $spool[0].Path
            $raw | Should -Not -Match '(?im)^bcc:'
            $raw | Should -Not -Match 'bob@sandbox\.test'
            $raw | Should -Match '^From: demo@sandbox\.test\r\nTo: Alice Example <alice@sandbox\.test>\r\nCc: someone@example\.com\r\n'
            $raw.EndsWith("`r`n`r`nHello Alice,`r`nsecond line.`r`n") | Should -BeTrue

            $message = Read-MimeMessage $spool[0].Path
            @($message.Headers | ForEach-Object Field) | Should -Be @('From', 'To', 'Cc', 'Subject', 'Date', 'Message-ID', 'X-Priority', 'X-Company', 'X-Trace')
            $message.From.Mailboxes[0].Address | Should -BeExactly 'demo@sandbox.test'
            $message.To.Mailboxes[0].Address | Should -BeExactly 'alice@sandbox.test'
            $message.To.Mailboxes[0].Name | Should -BeExactly 'Alice Example'
            $message.Cc.Mailboxes[0].Address | Should -BeExactly 'someone@example.com'
            $message.Bcc.Count | Should -Be 0
            $message.Subject | Should -BeExactly 'Grüße vom Sandbox'
            $message.Headers['Subject'] | Should -BeExactly 'Grüße vom Sandbox'
            $message.Headers['X-Priority'] | Should -BeExactly '1'
            $message.Headers['X-Company'] | Should -BeExactly 'Afteroffice'
            $message.Headers['X-Trace'] | Should -BeExactly 'abc 123'
            $message.MessageId | Should -Match '@sandbox\.test$'
            # MimeKit hands text back with LF line ends; the raw check above pins the CRLFs.
            $message.TextBody | Should -BeExactly "Hello Alice,`nsecond line.`n"
            ($message.Date - [datetimeoffset]::UtcNow).Duration().TotalSeconds | Should -BeLessThan 60

            $bytes = [IO.File]::ReadAllBytes($spool[0].Path)
            foreach ($user in 'alice@sandbox.test', 'bob@sandbox.test') {
                $inbox = @(Get-SandboxMessage -User $user -Mailbox Inbox)
                $inbox.Count | Should -Be 1
                [IO.File]::ReadAllBytes($inbox[0].Path) | Should -Be $bytes
            }
            @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Outbox).Count | Should -Be 0
            @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Inbox).Count | Should -Be 0
        }

        It 'delivers once to a user named in To and Bcc, and keeps the envelope free of duplicates' {
            $form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test, bob@sandbox.test'; mbcc = 'ALICE@sandbox.test'; msub = 'Dup'; snd = 'checked' }
            (Send-Mail $sid $form).Body | Should -BeExactly 'OK'
            (Get-SandboxSpool).Envelope.Recipients | Should -Be @('alice@sandbox.test', 'bob@sandbox.test')
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 1
        }

        It 'keeps an Outbox copy with keepcopy=checked, and none with keepcopy empty' {
            $form = New-Send -Subject 'Kept'
            $form.keepcopy = 'checked'
            (Send-Mail $sid $form).Body | Should -BeExactly 'OK'
            $outbox = @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Outbox)
            $outbox.Count | Should -Be 1
            $spool = Get-SandboxSpool
            $outbox[0].Id | Should -Be $spool.Id
            [IO.File]::ReadAllBytes($outbox[0].Path) | Should -Be ([IO.File]::ReadAllBytes($spool.Path))

            $form = New-Send -Subject 'Not kept'
            $form.keepcopy = ''
            (Send-Mail $sid $form).Body | Should -BeExactly 'OK'
            @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Outbox).Count | Should -Be 1
            @(Get-SandboxSpool).Count | Should -Be 2
        }

        It 'adds several mheader fields in order, and a folded header line' {
            $form = @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('mheader', "X-One: 1`r`nX-Two: 2"),
                @('mheader', "X-Three: 3`r`n`tcontinued"), @('snd', 'checked'))
            (Send-Mail $sid $form).Body | Should -BeExactly 'OK'
            $message = Read-MimeMessage (Get-SandboxSpool).Path
            @($message.Headers | ForEach-Object Field) | Should -Be @('From', 'To', 'Date', 'Message-ID', 'X-One', 'X-Two', 'X-Three')
            $message.Headers['X-Three'] | Should -BeExactly "3`tcontinued"
            (Get-Content -Raw (Get-SandboxSpool).Path) | Should -Match "\r\nX-Three: 3\r\n\tcontinued\r\n\r\n$"
        }

        It 'stores an HTML message with an attachment that parses back to the same HTML and bytes' {
            $html = '<html><body><p>Hello <b>HTML</b> – ünïcödé</p></body></html>'
            $attachment = [byte[]](0..255) * 40
            $builder = [MimeKit.BodyBuilder]::new()
            $builder.HtmlBody = $html
            $builder.TextBody = 'Hello text'
            $null = $builder.Attachments.Add('data.bin', $attachment)
            $entity = $builder.ToMessageBody()
            $options = [MimeKit.FormatOptions]::Default.Clone()
            $options.NewLineFormat = [MimeKit.NewLineFormat]::Dos
            $entity.Prepare([MimeKit.EncodingConstraint]::SevenBit)
            $stream = [IO.MemoryStream]::new()
            $entity.WriteTo($options, $stream)
            $text = [Text.Encoding]::UTF8.GetString($stream.ToArray())
            $split = $text.IndexOf("`r`n`r`n")
            $form = [ordered]@{
                api = 'lc'; mto = 'alice@sandbox.test'; msub = 'HTML and attachment'
                body = $text.Substring($split + 4)
                mheader = "MIME-Version: 1.0`r`n" + $text.Substring(0, $split)
                snd = 'checked'
            }
            (Send-Mail $sid $form).Body | Should -BeExactly 'OK'

            $message = Read-MimeMessage (Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Path
            $message.Body.ContentType.MimeType | Should -Be 'multipart/mixed'
            $message.HtmlBody | Should -BeExactly $html
            $message.TextBody | Should -BeExactly 'Hello text'
            $parts = @($message.Attachments)
            $parts.Count | Should -Be 1
            $parts[0].FileName | Should -BeExactly 'data.bin'
            $decoded = [IO.MemoryStream]::new()
            $parts[0].Content.DecodeTo($decoded)
            $decoded.ToArray() | Should -Be $attachment
            $message.Headers['Bcc'] | Should -BeNullOrEmpty
        }

        It 'refuses <Case> with false and stores nothing' -TestCases @(
            @{ Case = 'snd and svdrf together'; Form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; snd = 'checked'; svdrf = 'checked' }; Like = '*both*' }
            @{ Case = 'neither snd nor svdrf'; Form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; msub = 'x' }; Like = 'nothing to do*' }
            @{ Case = 'a send without recipients'; Form = [ordered]@{ api = 'lc'; msub = 'x'; snd = 'checked' }; Like = '*recipient*' }
            @{ Case = 'a bad To address'; Form = [ordered]@{ api = 'lc'; mto = 'not an address'; snd = 'checked' }; Like = 'mto *' }
            @{ Case = 'a bad Cc address'; Form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; mcc = 'bob@'; snd = 'checked' }; Like = 'mcc *' }
            @{ Case = 'a bad Bcc address'; Form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; mbcc = '<<>>'; snd = 'checked' }; Like = 'mbcc *' }
            @{ Case = 'mprio 0'; Form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; mprio = '0'; snd = 'checked' }; Like = 'mprio*' }
            @{ Case = 'mprio 6'; Form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; mprio = '6'; snd = 'checked' }; Like = 'mprio*' }
            @{ Case = 'mprio x'; Form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; mprio = 'x'; snd = 'checked' }; Like = 'mprio*' }
            @{ Case = 'a mid with bad characters'; Form = [ordered]@{ api = 'lc'; mid = '../etc'; mto = 'alice@sandbox.test'; svdrf = 'checked' }; Like = 'mid*' }
            @{ Case = 'a mid that is no draft (send)'; Form = [ordered]@{ api = 'lc'; mid = '123.456'; mto = 'alice@sandbox.test'; snd = 'checked' }; Like = 'no draft*' }
            @{ Case = 'a mid that is no draft (save)'; Form = [ordered]@{ api = 'lc'; mid = '123.456'; svdrf = 'checked' }; Like = 'no draft*' }
            @{ Case = 'a Bcc header in mheader'; Form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; mheader = "X-Ok: 1`r`nBcc: bob@sandbox.test"; snd = 'checked' }; Like = '*Bcc*' }
            @{ Case = 'an mheader line that is no header'; Form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; mheader = 'no colon here'; snd = 'checked' }; Like = 'mheader*' }
            @{ Case = 'a subject with a line break'; Form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; msub = "a`r`nBcc: bob@sandbox.test"; snd = 'checked' }; Like = 'msub*' }
            @{ Case = 'a missing api'; Form = [ordered]@{ mto = 'alice@sandbox.test'; snd = 'checked' }; Like = 'api=lc*' }
            @{ Case = 'api=html'; Form = [ordered]@{ api = 'html'; mto = 'alice@sandbox.test'; snd = 'checked' }; Like = 'api=lc*' }
        ) {
            $answer = Send-Mail $sid $Form
            Assert-False $answer $Like
            (Get-SandboxRequest -Command sdmailact).Outcome | Should -BeLike 'false: *'
            Assert-NothingStored
        }
    }

    Context 'drafts' {
        BeforeEach {
            $sid = Invoke-RawLogin
        }

        It 'saves a draft without sending anything, even with no recipient' {
            (Send-Mail $sid ([ordered]@{ api = 'lc'; msub = 'Draft one'; body = 'later'; svdrf = 'checked' })).Body | Should -BeExactly 'OK'
            $drafts = @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Draft)
            $drafts.Count | Should -Be 1
            (Read-MimeMessage $drafts[0].Path).Subject | Should -BeExactly 'Draft one'
            @(Get-SandboxSpool).Count | Should -Be 0
            (Send-Mail $sid ([ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; msub = 'Draft two'; svdrf = 'checked' })).Body | Should -BeExactly 'OK'
            @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Draft).Count | Should -Be 2
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 0
            @(Get-SandboxSpool).Count | Should -Be 0
        }

        It 'overwrites the draft named by mid' {
            (Send-Mail $sid ([ordered]@{ api = 'lc'; msub = 'Version 1'; svdrf = 'checked' })).Body | Should -BeExactly 'OK'
            $id = (Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Draft).Id
            (Send-Mail $sid ([ordered]@{ api = 'lc'; mid = $id; msub = 'Version 2'; svdrf = 'checked' })).Body | Should -BeExactly 'OK'
            $drafts = @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Draft)
            $drafts.Count | Should -Be 1
            $drafts[0].Id | Should -BeExactly $id
            (Read-MimeMessage $drafts[0].Path).Subject | Should -BeExactly 'Version 2'
        }

        It 'sends the new content with mid and removes the draft' {
            (Send-Mail $sid ([ordered]@{ api = 'lc'; msub = 'Old'; svdrf = 'checked' })).Body | Should -BeExactly 'OK'
            (Send-Mail $sid ([ordered]@{ api = 'lc'; msub = 'Keep me'; svdrf = 'checked' })).Body | Should -BeExactly 'OK'
            $id = @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Draft)[0].Id
            $form = [ordered]@{ api = 'lc'; mid = $id; mto = 'alice@sandbox.test'; msub = 'New'; body = 'final'; snd = 'checked' }
            (Send-Mail $sid $form).Body | Should -BeExactly 'OK'
            $left = @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Draft)
            $left.Count | Should -Be 1
            (Read-MimeMessage $left[0].Path).Subject | Should -BeExactly 'Keep me'
            $sent = Read-MimeMessage (Get-SandboxSpool).Path
            $sent.Subject | Should -BeExactly 'New'
            $sent.TextBody | Should -BeExactly 'final'
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 1
            # The draft is gone, so a second send with that mid is refused.
            Assert-False (Send-Mail $sid $form) 'no draft*'
        }
    }

    Context 'mailboxes' {
        BeforeEach {
            $demo = Invoke-RawLogin
            $alice = Invoke-RawLogin -UserName 'alice@sandbox.test' -Password 'Alice-Passw0rd'
            $long = 'L' * 90 + "`tX" + 'y' * 60
            (Send-Mail $demo (New-Send -Subject 'First' -Body "Line1`tTabbed`r`nLine2`r`n")).Body | Should -BeExactly 'OK'
            (Send-Mail $demo (New-Send -To 'Alice <alice@sandbox.test>, bob@sandbox.test' -Subject "Second`tone" -Body $long)).Body | Should -BeExactly 'OK'
            $stored = @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox)
            $stored.Count | Should -Be 2
        }

        It 'lists messages newest first with nine TAB fields' {
            $answer = Invoke-AosRaw -Path "$alice.openbox.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'Inbox' })
            $answer.StatusCode | Should -Be 200
            $lines = Get-Line $answer.Body
            $lines.Count | Should -Be 2
            $newest = $lines[0] -split "`t"
            $oldest = $lines[1] -split "`t"
            $newest.Count | Should -Be 9
            $oldest.Count | Should -Be 9
            $now = [datetimeoffset]::UtcNow.ToUnixTimeSeconds()

            $oldest[0] | Should -BeExactly $stored[0].Id
            $oldest[1] | Should -BeExactly 'First'
            $oldest[2] | Should -BeExactly 'demo@sandbox.test'
            $oldest[3] | Should -Be (Get-Item $stored[0].Path).Length
            [math]::Abs([long]$oldest[4] - $now) | Should -BeLessThan 60
            $oldest[5] | Should -BeExactly 'Line1 Tabbed Line2 '
            $oldest[6] | Should -BeExactly 'text/plain'
            $oldest[7] | Should -BeExactly 'alice@sandbox.test'
            $oldest[8] | Should -BeExactly 'New'

            $newest[0] | Should -BeExactly $stored[1].Id
            $newest[1] | Should -BeExactly 'Second one'
            $newest[5] | Should -BeExactly ('L' * 90 + ' X' + 'y' * 8)
            $newest[7] | Should -BeExactly 'Alice <alice@sandbox.test>, bob@sandbox.test'
        }

        It 'names the mailbox case-insensitively, defaults to Inbox and honours LCTop' {
            $all = (Invoke-AosRaw -Path "$alice.openbox.mbox.mms" -Form @{ api = 'lc' }).Body
            (Invoke-AosRaw -Path "$alice.openbox.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'INBOX' })).Body | Should -BeExactly $all
            $top = Get-Line (Invoke-AosRaw -Path "$alice.openbox.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'inbox'; LCTop = '1' })).Body
            $top.Count | Should -Be 1
            ($top[0] -split "`t")[0] | Should -BeExactly $stored[1].Id
            (Get-Line (Invoke-AosRaw -Path "$alice.openbox.mbox.mms" -Form ([ordered]@{ api = 'lc'; lctop = '5' })).Body).Count | Should -Be 2
            Assert-False (Invoke-AosRaw -Path "$alice.openbox.mbox.mms" -Form ([ordered]@{ api = 'lc'; LCTop = 'many' })) 'LCTop*'
        }

        It 'answers an empty mailbox with an empty body and an unknown one with false' {
            $empty = Invoke-AosRaw -Path "$alice.openbox.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'Draft' })
            $empty.StatusCode | Should -Be 200
            $empty.Body | Should -BeExactly ''
            Assert-False (Invoke-AosRaw -Path "$alice.openbox.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'Spam' })) 'unknown mailbox*'
        }

        It 'sends only six fields a line in legacy mode' {
            Set-SandboxOption -LegacyOpenbox $true | Out-Null
            $lines = Get-Line (Invoke-AosRaw -Path "$alice.openbox.mbox.mms" -Form @{ api = 'lc' }).Body
            $lines.Count | Should -Be 2
            $fields = $lines[1] -split "`t"
            $fields.Count | Should -Be 6
            $fields[1] | Should -BeExactly 'First'
            $fields[5] | Should -BeExactly 'Line1 Tabbed Line2 '
        }

        It 'reads the exact bytes with rdmail and marks the message Read' {
            $answer = Invoke-AosRaw -Path "$alice.rdmail.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'Inbox'; file = $stored[0].Id })
            $answer.StatusCode | Should -Be 200
            $answer.ContentType | Should -Be 'message/rfc822'
            $answer.Bytes | Should -Be ([IO.File]::ReadAllBytes($stored[0].Path))
            $lines = Get-Line (Invoke-AosRaw -Path "$alice.openbox.mbox.mms" -Form @{ api = 'lc' }).Body
            ($lines[1] -split "`t")[8] | Should -BeExactly 'Read'
            ($lines[0] -split "`t")[8] | Should -BeExactly 'New'
            Assert-False (Invoke-AosRaw -Path "$alice.rdmail.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'Inbox'; file = '1.000' })) 'no message*'
            Assert-False (Invoke-AosRaw -Path "$alice.rdmail.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'Inbox'; file = '../x' })) 'file*'
        }

        It 'lists the mailboxes with counts in mboxtable' {
            $null = Invoke-AosRaw -Path "$alice.rdmail.mbox.mms" -Form ([ordered]@{ api = 'lc'; file = $stored[1].Id })
            (Invoke-AosRaw -Path "$alice.mboxtable.mbox.mms" -Form @{ api = 'lc' }).Body | Should -BeExactly "Inbox`t2`t1`r`nDraft`t0`t0`r`nOutbox`t0`t0"
            (Invoke-AosRaw -Path "$demo.mboxtable.mbox.mms" -Form @{ api = 'lc' }).Body | Should -BeExactly "Inbox`t0`t0`r`nDraft`t0`t0`r`nOutbox`t0`t0"
        }
    }

    Context 'sessions' {
        It 'expires a session after the idle time' {
            # 2 s, not 1: on a loaded machine the login and first check may take a while.
            Set-SandboxOption -IdleSeconds 2 | Out-Null
            $sid = Invoke-RawLogin
            (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }).Body | Should -BeExactly 'true'
            Start-Sleep -Milliseconds 3200
            Assert-False (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }) 'session expired*'
            Assert-False (Send-Mail $sid (New-Send)) 'session expired*'
            Assert-False (Invoke-AosRaw -Path "$sid.openbox.mbox.mms" -Form @{ api = 'lc' }) 'session expired*'
            Assert-NothingStored
            Invoke-RawLogin | Should -Not -Be $sid
        }

        It 'counts every request as a use' {
            Set-SandboxOption -IdleSeconds 3 | Out-Null
            $sid = Invoke-RawLogin
            foreach ($i in 1..4) {
                Start-Sleep -Milliseconds 1000
                (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }).Body | Should -BeExactly 'true'
            }
            Start-Sleep -Milliseconds 3600
            Assert-False (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }) 'session expired*'
        }

        It 'refuses an unknown SID and a SID command without one' {
            Assert-False (Send-Mail 'SIDxxxxxxxxxxxxxxxxx' (New-Send)) 'unknown session*'
            Assert-False (Invoke-AosRaw -Path 'sdmailact.mail.mms' -Form (New-Send)) '*session id*'
            Assert-NothingStored
        }
    }

    Context 'faults' {
        BeforeEach {
            $sid = Invoke-RawLogin
        }

        It 'delays a request, then behaves normally' {
            Add-SandboxFault -Command sqVry -Action delay -DelayMs 2000
            $watch = [Diagnostics.Stopwatch]::StartNew()
            (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }).Body | Should -BeExactly 'true'
            $watch.ElapsedMilliseconds | Should -BeGreaterOrEqual 1950
            $watch.Restart()
            (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }).Body | Should -BeExactly 'true'
            $watch.ElapsedMilliseconds | Should -BeLessThan 1500
            Get-SandboxRequest -Command sqVry | ForEach-Object { "$($_.Fault)" } | Should -Be @('delay', '')
        }

        It 'answers a chosen status and text without acting' {
            Add-SandboxFault -Command sdmailact -Action status -StatusCode 503 -Text 'Service Unavailable'
            $answer = Send-Mail $sid (New-Send)
            $answer.StatusCode | Should -Be 503
            $answer.Body | Should -BeExactly 'Service Unavailable'
            Assert-NothingStored
            (Get-SandboxRequest -Command sdmailact).Outcome | Should -BeExactly 'fault:status'
            (Send-Mail $sid (New-Send)).Body | Should -BeExactly 'OK'
        }

        It 'answers 200 with the exact text without acting' {
            $page = "<html><body><h1>Welcome</h1>`r`nPlease log in</body></html>"
            Add-SandboxFault -Command login -Action text -Text $page
            $answer = Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; name = 'demo'; pswd = $Sandbox.DemoPassword })
            $answer.StatusCode | Should -Be 200
            $answer.Body | Should -BeExactly $page
            Add-SandboxFault -Command sdmailact -Action text -Text 'OK but not really'
            (Send-Mail $sid (New-Send)).Body | Should -BeExactly 'OK but not really'
            Assert-NothingStored
        }

        It 'expires the session on demand' {
            Add-SandboxFault -Command sdmailact -Action expire
            Assert-False (Send-Mail $sid (New-Send)) 'session expired*'
            Assert-False (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }) 'session expired*'
            Assert-NothingStored
            (Send-Mail (Invoke-RawLogin) (New-Send)).Body | Should -BeExactly 'OK'
        }

        It 'drops the connection before acting' {
            Add-SandboxFault -Command sdmailact -Action dropBefore
            { Send-Mail $sid (New-Send) } | Should -Throw
            Assert-NothingStored
            (Get-SandboxRequest -Command sdmailact).Outcome | Should -BeExactly 'fault:dropBefore'
            (Send-Mail $sid (New-Send)).Body | Should -BeExactly 'OK'
            @(Get-SandboxSpool).Count | Should -Be 1
        }

        It 'drops the connection after acting: exactly one message stored' {
            Add-SandboxFault -Command sdmailact -Action dropAfter
            { Send-Mail $sid (New-Send -Subject 'Lost answer') } | Should -Throw
            $spool = @(Get-SandboxSpool)
            $spool.Count | Should -Be 1
            (Read-MimeMessage $spool[0].Path).Subject | Should -BeExactly 'Lost answer'
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 1
            $record = Get-SandboxRequest -Command sdmailact
            $record.Outcome | Should -BeExactly 'fault:dropAfter'
            $record.Status | Should -Be 0
        }

        It 'redirects with 302 and the given Location' {
            Add-SandboxFault -Command login -Action redirect -Location 'https://elsewhere.example/login.html'
            $answer = Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; name = 'demo'; pswd = $Sandbox.DemoPassword })
            $answer.StatusCode | Should -Be 302
            $answer.Location | Should -BeExactly 'https://elsewhere.example/login.html'
            $answer.Body | Should -BeExactly ''
        }

        It 'fires for exactly <Times> requests of its command only' -TestCases @(@{ Times = 1 }, @{ Times = 3 }) {
            Add-SandboxFault -Command sqVry -Action status -StatusCode 500 -Text 'boom' -Times $Times
            (Send-Mail $sid (New-Send)).Body | Should -BeExactly 'OK'
            foreach ($i in 1..$Times) { (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }).StatusCode | Should -Be 500 }
            (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }).Body | Should -BeExactly 'true'
        }

        It 'forgets queued faults on Clear-SandboxFault' {
            Add-SandboxFault -Command sdmailact -Action dropBefore -Times 5
            Clear-SandboxFault
            (Send-Mail $sid (New-Send)).Body | Should -BeExactly 'OK'
        }

        It 'refuses a fault it does not know with 400' {
            $answer = Invoke-WebRequest -Method Post -Uri "$($Sandbox.BaseUri)/_sandbox/faults" -ContentType 'application/json' `
                -Body '{"command":"login","action":"explode"}' -SkipHttpErrorCheck
            $answer.StatusCode | Should -Be 400
            $answer.Content | Should -Match 'action must be one of'
        }
    }

    Context 'a far-away server' {
        # docs/sandbox.md: latency, slow reading and the faults that move bytes slowly or not at all.
        BeforeEach {
            $sid = Invoke-RawLogin
        }

        It 'adds the latency to every request, and a reset takes it away' {
            (Set-SandboxOption -LatencyMs 600).latencyMs | Should -Be 600
            $watch = [Diagnostics.Stopwatch]::StartNew()
            (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }).Body | Should -BeExactly 'true'
            $watch.ElapsedMilliseconds | Should -BeGreaterOrEqual 580
            (Get-SandboxRequest -Command sqVry).DurationMs | Should -BeGreaterOrEqual 580
            Reset-Sandbox
            (Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/info").latencyMs | Should -Be 0
        }

        It 'reads request bodies no faster than readBytesPerSecond, and stores them whole' {
            (Set-SandboxOption -ReadBytesPerSecond 1MB).readBytesPerSecond | Should -Be 1MB
            $body = 'x' * 3MB
            (Send-Mail $sid (New-Send -Body $body)).Body | Should -BeExactly 'OK'
            Get-SandboxSpool | Set-SandboxCheckMark -Reason 'one line of 3 MB on purpose: the test is about reading speed'
            (Get-SandboxRequest -Command sdmailact).DurationMs | Should -BeGreaterOrEqual 2500
            $stored = [IO.File]::ReadAllText((Get-SandboxSpool).Path)
            $stored.Substring($stored.IndexOf("`r`n`r`n") + 4) | Should -BeExactly $body
        }

        It 'stalls: reads nothing of the body for delayMs, then acts' {
            Add-SandboxFault -Command sdmailact -Action stall -DelayMs 1500
            (Send-Mail $sid (New-Send)).Body | Should -BeExactly 'OK'
            $record = Get-SandboxRequest -Command sdmailact
            $record.Fault | Should -BeExactly 'stall'
            $record.DurationMs | Should -BeGreaterOrEqual 1450
            @(Get-SandboxSpool).Count | Should -Be 1
        }

        It 'trickles an answer, one byte every delayMs' {
            Add-SandboxFault -Command sqVry -Action trickle -DelayMs 300
            $watch = [Diagnostics.Stopwatch]::StartNew()
            (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }).Body | Should -BeExactly 'true'
            $watch.ElapsedMilliseconds | Should -BeGreaterOrEqual 1150
        }

        It 'pads a text answer with spaces to size bytes' {
            Add-SandboxFault -Command sdmailact -Action text -Text 'OK' -Size 3MB
            $answer = Send-Mail $sid (New-Send)
            $answer.Bytes.Length | Should -Be 3MB
            $answer.Body.TrimEnd() | Should -BeExactly 'OK'
            Assert-NothingStored
        }

        It 'serves a large stored message from its file, byte for byte, and drops one midway on request' {
            $id = '1700000000000.001'
            $folder = Join-Path $Sandbox.DataPath 'mail/demo@sandbox.test/Inbox'
            $null = New-Item -ItemType Directory -Force $folder
            $path = Join-Path $folder "$id.eml"
            $bytes = [byte[]]::new(20MB)
            [Random]::new(3).NextBytes($bytes)
            $head = [Text.Encoding]::ASCII.GetBytes("Subject: big`r`n`r`n")
            [Array]::Copy($head, $bytes, $head.Length)
            [IO.File]::WriteAllBytes($path, $bytes)
            $answer = Invoke-AosRaw -Path "$sid.rdmail.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'Inbox'; file = $id })
            $answer.ContentType | Should -BeExactly 'message/rfc822'
            [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($answer.Bytes)) |
                Should -BeExactly ([Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes)))

            Add-SandboxFault -Command rdmail -Action dropMidAnswer
            { Invoke-AosRaw -Path "$sid.rdmail.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'Inbox'; file = $id }) } | Should -Throw
            $record = @(Get-SandboxRequest -Command rdmail)[1]
            $record.Outcome | Should -BeExactly 'fault:dropMidAnswer'
            $record.Status | Should -Be 0
        }
    }

    Context 'request recording' {
        It 'keeps wire order, duplicates and names as sent' {
            $sid = Invoke-RawLogin
            $form = @(@('api', 'lc'), @('mheader', 'X-A: 1'), @('MTO', 'alice@sandbox.test'), @('mheader', 'X-B: 2'), @('msub', 'Order'), @('snd', 'checked'))
            (Send-Mail $sid $form).Body | Should -BeExactly 'OK'
            $records = @(Get-SandboxRequest -Command sdmailact)
            $records.Count | Should -Be 1
            $r = $records[0]
            $r.Method | Should -BeExactly 'POST'
            $r.Path | Should -BeExactly '/<SID>.sdmailact.mail.mms'
            $r.Command | Should -BeExactly 'sdmailact'
            $r.HasSid | Should -BeTrue
            $r.ContentType | Should -BeExactly 'application/x-www-form-urlencoded; charset=utf-8'
            $r.ContentLength | Should -Be 92
            $r.Status | Should -Be 200
            $r.Outcome | Should -BeExactly 'OK'
            $r.Fields.Name | Should -Be @('api', 'mheader', 'MTO', 'mheader', 'msub', 'snd')
            $r.Fields.Value | Should -Be @('lc', 'X-A: 1', 'alice@sandbox.test', 'X-B: 2', 'Order', 'checked')
            $r.Fields | ForEach-Object Length | Should -Be @(2, 6, 18, 6, 5, 7)
            $message = Read-MimeMessage (Get-SandboxSpool).Path
            $message.Headers['X-A'] | Should -Be '1'
            $message.Headers['X-B'] | Should -Be '2'
        }

        It 'masks passwords, login ids and session ids everywhere' {
            $sid = Invoke-RawLogin
            $id = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("alice|sandbox.test|Alice-Passw0rd"))
            $alice = (Invoke-AosRaw -Path 'cgi-bin/vo/st.login.mms' -Form ([ordered]@{ api = 'lc'; id = $id })).Body
            $null = Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $alice }
            $null = Send-Mail $sid ([ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; msub = "Ticket $sid"; body = "ref=$alice."; snd = 'checked' })

            $login = @(Get-SandboxRequest -Command login)
            $login.Count | Should -Be 2
            ($login[0].Fields | Where-Object Name -EQ 'pswd').Value | Should -BeExactly '<masked>'
            ($login[0].Fields | Where-Object Name -EQ 'pswd').Length | Should -Be $Sandbox.DemoPassword.Length
            ($login[1].Fields | Where-Object Name -EQ 'id').Value | Should -BeExactly '<masked>'
            $login[1].Path | Should -BeExactly '/cgi-bin/vo/st.login.mms'
            (Get-SandboxRequest -Command sqVry).Fields[0].Value | Should -BeExactly '<masked>'
            $send = Get-SandboxRequest -Command sdmailact
            $send.Path | Should -BeExactly '/<SID>.sdmailact.mail.mms'
            ($send.Fields | Where-Object Name -EQ 'msub').Value | Should -BeExactly 'Ticket <SID>'
            ($send.Fields | Where-Object Name -EQ 'body').Value | Should -BeExactly 'ref=<SID>.'

            $json = Get-SandboxRequest | ConvertTo-Json -Depth 6
            $raw = (Invoke-WebRequest -Uri "$($Sandbox.BaseUri)/_sandbox/requests").Content
            foreach ($text in $json, $raw) {
                $text | Should -Not -BeLike '*S3cret*'
                $text | Should -Not -BeLike '*Alice-Passw0rd*'
                $text | Should -Not -BeLike "*$id*"
                $text | Should -Not -BeLike "*$sid*"
                $text | Should -Not -BeLike "*$alice*"
            }
        }

        It 'records GET query fields, time order and filters by command' {
            $null = Invoke-AosRaw -Method GET -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; name = 'demo'; pswd = 'wrong' })
            $null = Invoke-AosRaw -Path 'nothing.here.mms' -Form @{ api = 'lc' }
            $all = @(Get-SandboxRequest)
            $all.Count | Should -Be 2
            $all[0].Seq | Should -BeLessThan $all[1].Seq
            $all[0].Method | Should -BeExactly 'GET'
            $all[0].Fields.Name | Should -Be @('api', 'name', 'pswd')
            $all[0].Fields[2].Value | Should -BeExactly '<masked>'
            $all[0].Outcome | Should -BeLike 'false: login failed*'
            $all[1].Command | Should -BeExactly 'nothing'
            $all[1].Outcome | Should -BeLike 'false: unknown command*'
            @(Get-SandboxRequest -Command login).Count | Should -Be 1
            Clear-SandboxRequest
            @(Get-SandboxRequest).Count | Should -Be 0
        }

        It 'does not record control requests' {
            $null = Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/info"
            Set-SandboxOption -IdleSeconds 100 | Out-Null
            @(Get-SandboxRequest).Count | Should -Be 0
        }

        It 'cuts long values at 65536 characters but reports their full length' {
            $sid = Invoke-RawLogin
            $body = 'b' * 70000
            (Send-Mail $sid (New-Send -Body $body)).Body | Should -BeExactly 'OK'
            Get-SandboxSpool | Set-SandboxCheckMark -Reason 'one line of 70000 characters on purpose: the test is about recorded lengths'
            $field = (Get-SandboxRequest -Command sdmailact).Fields | Where-Object Name -EQ 'body'
            $field.Value.Length | Should -Be 65536
            $field.Length | Should -Be 70000
            (Read-MimeMessage (Get-SandboxSpool).Path).TextBody | Should -BeExactly $body
        }
    }

    Context 'robustness' {
        It 'answers false to <Case> and keeps serving' -TestCases @(
            @{ Case = 'an unknown command'; Path = 'st.nothing.mms'; Body = 'api=lc'; ContentType = 'application/x-www-form-urlencoded'; Like = 'unknown command*' }
            @{ Case = 'an undocumented command'; Path = 'SIDabcdefghijklmnopq.mboxact.mbox.mms'; Body = 'api=lc'; ContentType = 'application/x-www-form-urlencoded'; Like = 'unknown command*' }
            @{ Case = 'a path that is no command'; Path = 'index.html'; Body = 'api=lc'; ContentType = 'application/x-www-form-urlencoded'; Like = 'unknown command*' }
            @{ Case = 'a login without api'; Path = 'st.login.mms'; Body = 'name=demo&pswd=x'; ContentType = 'application/x-www-form-urlencoded'; Like = 'api=lc*' }
            @{ Case = 'a garbage body'; Path = 'st.login.mms'; Body = [byte[]](@(0xff, 0xfe, 0x00, 0x26, 0x3d, 0x25, 0x80, 0x0d, 0x0a) * 100); ContentType = 'application/x-www-form-urlencoded'; Like = 'api=lc*' }
            @{ Case = 'an over-long field name'; Path = 'st.login.mms'; Body = 'k' * 5000; ContentType = 'application/x-www-form-urlencoded'; Like = 'malformed form body*' }
            @{ Case = 'a JSON body'; Path = 'st.login.mms'; Body = '{"api":"lc","name":"demo"}'; ContentType = 'application/json'; Like = '*x-www-form-urlencoded*' }
        ) {
            $answer = Invoke-AosRaw -Path $Path -Body $Body -ContentType $ContentType
            Assert-False $answer $Like
            Test-LoginWorks
        }

        It 'reads a 50 MB body and answers it' {
            $sid = Invoke-RawLogin
            $body = 'api=lc&mto=nobody&snd=checked&filler=' + ('x' * 50MB)
            $answer = Invoke-AosRaw -Path "$sid.sdmailact.mail.mms" -Body $body
            Assert-False $answer 'mto *'
            $record = Get-SandboxRequest -Command sdmailact
            $record.ContentLength | Should -Be (50MB + 37)
            ($record.Fields | Where-Object Name -EQ 'filler').Length | Should -Be 50MB
            Test-LoginWorks
        }

        It 'refuses a body over the size limit cleanly' {
            Set-SandboxOption -MaxRequestBytes 1MB | Out-Null
            $body = 'api=lc&name=demo&pswd=x&filler=' + ('y' * 2MB)
            $answer = try { Invoke-AosRaw -Path 'st.login.mms' -Body $body } catch { 'dropped' }
            if ($answer -ne 'dropped') {
                $answer.StatusCode | Should -Be 413
                $answer.Body | Should -Match '^false\r\nrequest body too large'
            }
            (Get-SandboxRequest -Command login).Outcome | Should -BeLike 'false: request body too large*'
            Test-LoginWorks
            Reset-Sandbox
            (Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/info").maxRequestBytes | Should -Be 512MB
        }
    }

    Context 'concurrency' {
        It 'stores 20 parallel sends, each whole and with its own id' {
            $sid = Invoke-RawLogin
            $helpers = Join-Path $PSScriptRoot 'TestHelpers.psm1'
            $answers = 1..20 | ForEach-Object -ThrottleLimit 4 -Parallel {
                Import-Module $using:helpers
                $session = $using:sid
                $form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; mbcc = 'bob@sandbox.test'; msub = "Parallel $_"; body = ('z' * 20000) + "`r`n"; snd = 'checked'; keepcopy = 'checked' }
                (Invoke-AosRaw -Path "$session.sdmailact.mail.mms" -Form $form).Body
            }
            $answers | Should -Be (@('OK') * 20)
            $spool = @(Get-SandboxSpool)
            $spool | Set-SandboxCheckMark -Reason 'one line of 20000 characters on purpose: the test is about parallel stores'
            $spool.Count | Should -Be 20
            @($spool.Id | Sort-Object -Unique).Count | Should -Be 20
            $subjects = $spool | ForEach-Object { (Read-MimeMessage $_.Path).Subject } | Sort-Object { [int]($_ -replace '\D') }
            $subjects | Should -Be (1..20 | ForEach-Object { "Parallel $_" })
            foreach ($box in @{ User = 'alice@sandbox.test'; Mailbox = 'Inbox' }, @{ User = 'bob@sandbox.test'; Mailbox = 'Inbox' }, @{ User = 'demo@sandbox.test'; Mailbox = 'Outbox' }) {
                $messages = @(Get-SandboxMessage @box)
                $messages.Count | Should -Be 20
                $messages | ForEach-Object { (Read-MimeMessage $_.Path).TextBody | Should -BeExactly (('z' * 20000) + "`n") }
            }
            @(Get-ChildItem -LiteralPath $Sandbox.DataPath -Recurse -Force -File -Filter '*.tmp').Count | Should -Be 0
        }
    }

    Context 'HTTPS and control endpoint' {
        It 'answers a login over HTTPS when certificate checks are skipped, and fails the check otherwise' {
            $Sandbox.HttpsBaseUri | Should -Match '^https://127\.0\.0\.1:\d+$'
            $body = @{ api = 'lc'; name = 'demo@sandbox.test'; pswd = $Sandbox.DemoPassword }
            $answer = Invoke-WebRequest -Method Post -Uri "$($Sandbox.HttpsBaseUri)/st.login.mms" -Body $body -SkipCertificateCheck
            $answer.Content | Should -MatchExactly '^SID[A-Za-z0-9]{17}$'
            { Invoke-WebRequest -Method Post -Uri "$($Sandbox.HttpsBaseUri)/st.login.mms" -Body $body } | Should -Throw
            (Invoke-AosRaw -BaseUri $Sandbox.HttpsBaseUri -Path 'cgi-bin/vo/sqVry.user.mms' -Form @{ sid = $answer.Content } -SkipCertificateCheck).Body | Should -BeExactly 'true'
        }

        It 'describes itself at /_sandbox/info' {
            $info = Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/info"
            $info.baseUri | Should -BeExactly $Sandbox.BaseUri
            $info.httpsBaseUri | Should -BeExactly $Sandbox.HttpsBaseUri
            $info.dataPath | Should -BeExactly $Sandbox.DataPath
            $info.demoUser | Should -BeExactly 'demo@sandbox.test'
            $info.idleSeconds | Should -Be 2700
        }

        It 'changes options and restores them on reset' {
            (Set-SandboxOption -IdleSeconds 10 -LegacyOpenbox $true).idleSeconds | Should -Be 10
            (Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/info").idleSeconds | Should -Be 10
            Reset-Sandbox
            $info = Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/info"
            $info.idleSeconds | Should -Be 2700
            $info.legacyOpenbox | Should -BeFalse
        }

        It 'adds users that log in and receive mail until a reset' {
            Add-SandboxUser -Name carol -Domain example.org -Password 'Carol&Pw'
            $carol = Invoke-RawLogin -UserName 'carol@example.org' -Password 'Carol&Pw'
            (Send-Mail (Invoke-RawLogin) (New-Send -To 'carol@example.org')).Body | Should -BeExactly 'OK'
            @(Get-SandboxMessage -User 'carol@example.org' -Mailbox Inbox).Count | Should -Be 1
            (Get-Line (Invoke-AosRaw -Path "$carol.openbox.mbox.mms" -Form @{ api = 'lc' }).Body).Count | Should -Be 1
            Reset-Sandbox
            Assert-False (Invoke-AosRaw -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; name = 'carol@example.org'; pswd = 'Carol&Pw' })) 'login failed*'
        }

        It 'forgets mail, spool and sessions on reset' {
            $sid = Invoke-RawLogin
            (Send-Mail $sid (New-Send)).Body | Should -BeExactly 'OK'
            @(Get-SandboxSpool).Count | Should -Be 1
            Reset-Sandbox
            Assert-NothingStored
            Assert-False (Invoke-AosRaw -Path 'sqVry.user.mms' -Form @{ sid = $sid }) 'unknown session*'
        }
    }

    Context 'command line' {
        It 'starts with --user and --idle-minutes, writes the ready file and prints the banner' {
            Import-Module (Join-Path $PSScriptRoot '../build/AosSandbox.psm1') -Force
            $log = Join-Path ([IO.Path]::GetTempPath()) ('aos-sandbox-cli-' + [guid]::NewGuid().ToString('n') + '.log')
            $second = Start-AosSandbox -SandboxPath $env:AOS_SANDBOX_DLL -LogPath $log -ArgumentList '--user', 'carol@example.org:pa:ss@word', '--idle-minutes', '2',
                '--latency-ms', '300', '--read-bytes-per-second', '5000000'
            try {
                $base = $second.BaseUri.AbsoluteUri.TrimEnd('/')
                $https = $second.HttpsBaseUri.AbsoluteUri.TrimEnd('/')
                $base | Should -Match '^http://127\.0\.0\.1:\d+$'
                $https | Should -Match '^https://127\.0\.0\.1:\d+$'
                $base | Should -Not -Be $Sandbox.BaseUri
                $second.DemoUser | Should -BeExactly 'demo@sandbox.test'
                $second.DemoPassword | Should -BeExactly 'S3cret&Pass=w0rd%+'
                $ready = Get-Content -Raw -LiteralPath (Join-Path $second.DataPath 'sandbox-ready.json') | ConvertFrom-Json
                $ready.pid | Should -Be $second.Process.Id
                $ready.dataPath | Should -BeExactly $second.DataPath
                $ready.viewerUri | Should -BeExactly "$base/_sandbox/ui/"

                Invoke-RawLogin -BaseUri $base -UserName 'carol@example.org' -Password 'pa:ss@word' | Should -Match '^SID[A-Za-z0-9]{17}$'
                Invoke-RawLogin -BaseUri $base | Should -Match '^SID[A-Za-z0-9]{17}$'
                $info = Invoke-RestMethod -Uri "$base/_sandbox/info"
                $info.idleSeconds | Should -Be 120
                $info.dataPath | Should -BeExactly $second.DataPath
                $info.latencyMs | Should -Be 300
                $info.readBytesPerSecond | Should -Be 5000000
                $watch = [Diagnostics.Stopwatch]::StartNew()
                $null = Invoke-AosRaw -BaseUri $base -Path 'sqVry.user.mms' -Form @{ sid = 'SIDx' }
                $watch.ElapsedMilliseconds | Should -BeGreaterOrEqual 290

                $banner = Get-Content -Raw -LiteralPath $log
                $banner | Should -BeLike "*$base*"
                $banner | Should -BeLike "*$https*"
                $banner | Should -BeLike "*Viewer:*$base/_sandbox/ui/*"
                $banner | Should -BeLike "*$($second.DataPath)*"
                $banner | Should -BeLike '*demo@sandbox.test*S3cret&Pass=w0rd%+*'
                $banner | Should -BeLike "*New-AosSession -Server $base -Credential (Get-Credential demo@sandbox.test) -AllowUnencryptedAuthentication*"
            }
            finally {
                $second | Stop-AosSandbox
                Remove-Item -LiteralPath $log, "$log.err" -ErrorAction Ignore
            }
            # Its temporary mail folder went with it; the log, named by the caller, did not.
            Test-Path -LiteralPath $second.DataPath | Should -BeFalse
        }

        It 'keeps a mail folder the caller named when it stops' {
            Import-Module (Join-Path $PSScriptRoot '../build/AosSandbox.psm1') -Force
            $data = Join-Path ([IO.Path]::GetTempPath()) ('aos-sandbox-kept-' + [guid]::NewGuid().ToString('n'))
            $third = Start-AosSandbox -SandboxPath $env:AOS_SANDBOX_DLL -DataPath $data
            try {
                $base = $third.BaseUri.AbsoluteUri.TrimEnd('/')
                $sid = Invoke-RawLogin -BaseUri $base
                (Invoke-AosRaw -BaseUri $base -Path "$sid.sdmailact.mail.mms" -Form (New-Send)).Body | Should -BeExactly 'OK'
                $third | Stop-AosSandbox
                $third.OwnsDataPath | Should -BeFalse
                @(Get-ChildItem -LiteralPath (Join-Path $data 'spool') -File -Filter *.eml).Count | Should -Be 1
            }
            finally {
                $third | Stop-AosSandbox
                Remove-Item -LiteralPath $data -Recurse -Force -ErrorAction Ignore
            }
        }

        It 'refuses an unknown argument with exit code 2 and the usage' {
            $output = & dotnet $env:AOS_SANDBOX_DLL --bogus 2>&1
            $LASTEXITCODE | Should -Be 2
            ($output -join "`n") | Should -BeLike "*Unknown argument '--bogus'*Usage: dotnet AosMail.Sandbox.dll*"
        }
    }
}

Describe 'The guard on the AOS endpoints' {
    # A web page whose name resolves to 127.0.0.1 (DNS rebinding) sends its own name as Host; a page
    # posting from the user's browser sends its Origin. Neither may log in, list, read or send.
    BeforeAll {
        Reset-Sandbox
        $script:Sid = Invoke-RawLogin
        (Invoke-AosRaw -Path "$Sid.sdmailact.mail.mms" -Form ([ordered]@{ api = 'lc'; mto = 'demo@sandbox.test'; msub = 'Private'; body = "Mine.`r`n"; snd = 'checked' })).Body |
            Should -BeExactly 'OK'
        $script:MessageId = @(Get-SandboxMessage -User demo@sandbox.test -Mailbox Inbox)[0].Id
        $script:Client = [System.Net.Http.HttpClient]::new()

        function Invoke-Guarded {
            # One AOS request with the given Host and/or Origin; returns the status and the body.
            param([string] $Path, [System.Collections.IDictionary] $Form, [hashtable] $Headers, [string] $Method = 'POST')
            $encoded = @($Form.GetEnumerator() | ForEach-Object { [uri]::EscapeDataString($_.Key) + '=' + [uri]::EscapeDataString([string]$_.Value) }) -join '&'
            $uri = "$($Sandbox.BaseUri)/$Path"
            $request = if ($Method -eq 'GET') { [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::Get, "$($uri)?$encoded") }
                       else { [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::Post, $uri) }
            if ($Method -ne 'GET') { $request.Content = [System.Net.Http.StringContent]::new($encoded, [Text.Encoding]::UTF8, 'application/x-www-form-urlencoded') }
            if ($Headers.Host) { $request.Headers.Host = $Headers.Host }
            if ($Headers.Origin) { $null = $request.Headers.TryAddWithoutValidation('Origin', $Headers.Origin) }
            $response = $Client.SendAsync($request).GetAwaiter().GetResult()
            try { [pscustomobject]@{ Status = [int]$response.StatusCode; Body = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult() } }
            finally { $response.Dispose(); $request.Dispose() }
        }

        function Get-GuardedCommand {
            # What each AOS command needs, by name.
            param([string] $Name)
            switch ($Name) {
                'log in' { 'st.login.mms', [ordered]@{ api = 'lc'; name = $Sandbox.DemoUser; pswd = $Sandbox.DemoPassword } }
                'list' { "$Sid.openbox.mbox.mms", [ordered]@{ api = 'lc'; mbox = 'Inbox' } }
                'read' { "$Sid.rdmail.mbox.mms", [ordered]@{ api = 'lc'; mbox = 'Inbox'; file = $MessageId } }
                'send' { "$Sid.sdmailact.mail.mms", [ordered]@{ api = 'lc'; mto = 'attacker@example.org'; msub = 'Stolen'; body = 'x'; snd = 'checked' } }
            }
        }
    }

    AfterAll {
        $Client.Dispose()
    }

    It 'refuses to <Command> (<Method>) for <What>' -TestCases @(
        foreach ($command in 'log in', 'list', 'read', 'send') {
            foreach ($method in 'POST', 'GET') {
                @{ Command = $command; Method = $method; What = 'a foreign Host name'; Headers = @{ Host = 'attacker.example' } }
                @{ Command = $command; Method = $method; What = 'a foreign Origin'; Headers = @{ Origin = 'http://attacker.example' } }
                @{ Command = $command; Method = $method; What = 'an opaque Origin (a sandboxed frame)'; Headers = @{ Origin = 'null' } }
            }
        }
    ) {
        Clear-SandboxRequest
        $path, $form = Get-GuardedCommand $Command
        $answer = Invoke-Guarded -Path $path -Form $form -Headers $Headers -Method $Method
        $answer.Status | Should -Be 403
        $answer.Body | Should -BeExactly '' -Because 'nothing of the account is answered: no SID, no list, no message'
        @(Get-SandboxRequest).Count | Should -Be 0 -Because 'the guard stops the request before any command runs'
        @(Get-SandboxSpool).Count | Should -Be 1 -Because 'nothing was sent'
    }

    It 'serves <Command> to this machine: a loopback name, and an Origin on this machine' -TestCases @(
        @{ Command = 'log in' }, @{ Command = 'list' }, @{ Command = 'read' }
    ) {
        $port = ([uri]$Sandbox.BaseUri).Port
        $path, $form = Get-GuardedCommand $Command
        foreach ($headers in @{ Host = "localhost:$port" }, @{ Origin = "http://127.0.0.1:$port" }, @{ Origin = "http://localhost:8080" }) {
            $answer = Invoke-Guarded -Path $path -Form $form -Headers $headers
            $answer.Status | Should -Be 200
            $answer.Body | Should -Not -Match '^false'
        }
    }
}

Describe 'The judge, through the control API' {
    BeforeAll {
        Reset-Sandbox
        $script:Sid = Invoke-RawLogin
        # The tally is the whole run's (a reset keeps it): these tests count from what it is now.
        $script:Before = Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/checks"
    }

    It 'judges each stored message: none found in a clean one, rule, severity and line in a bad one' {
        (Invoke-AosRaw -Path "$Sid.sdmailact.mail.mms" -Form ([ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; msub = 'Clean'; body = "Hi.`r`n"; snd = 'checked' })).Body |
            Should -BeExactly 'OK'
        $long = 'x' * 1200
        (Invoke-AosRaw -Path "$Sid.sdmailact.mail.mms" -Form ([ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; msub = 'Broken'; body = "a`nb`r`n$long`r`n"; svdrf = 'checked' })).Body |
            Should -BeExactly 'OK'
        $clean, $broken = @(Get-SandboxMessage -User alice@sandbox.test -Mailbox Inbox)[0], @(Get-SandboxMessage -User demo@sandbox.test -Mailbox Draft)[0]

        $check = Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/checks/$($clean.Id)"
        $check.action | Should -BeExactly 'send'
        $check.subject | Should -BeExactly 'Clean'
        @($check.findings).Count | Should -Be 0

        $check = Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/checks/$($broken.Id)"
        $check.action | Should -BeExactly 'draft'
        # From, To, Subject, Date, Message-ID, the empty line: the body starts on line 7.
        @($check.findings | ForEach-Object { '{0} {1} {2} {3}' -f $_.rule, $_.severity, $_.line, $_.count }) |
            Should -Be @('BareLf error 7 1', 'LineTooLong error 9 1')
        $check.errors | Should -Be 2
    }

    It 'tallies the messages no test marked, keeps the tally across a reset, and answers 404 for an unknown id' {
        function Get-Delta {
            param($Tally)
            ($Tally.judged - $Before.judged), ($Tally.marked - $Before.marked), ($Tally.errors - $Before.errors), ($Tally.messagesWithErrors - $Before.messagesWithErrors)
        }
        $tally = Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/checks?errors=true"
        Get-Delta $tally | Should -Be @(2, 0, 2, 1)
        $broken = @($tally.messages)[-1]
        $broken.subject | Should -BeExactly 'Broken'
        @($tally.messages | Where-Object errors -EQ 0) | Should -BeNullOrEmpty -Because '?errors=true lists only messages with an error'

        Set-SandboxCheckMark -Id $broken.id -Reason 'a raw body with a bare LF, on purpose'
        Reset-Sandbox
        $tally = Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/checks"
        Get-Delta $tally | Should -Be @(2, 1, 0, 0)
        ($tally.messages | Where-Object id -EQ $broken.id).mark | Should -BeExactly 'a raw body with a bare LF, on purpose'

        { Set-SandboxCheckMark -Id '1700000000000.999' -Reason 'none' } | Should -Throw '*404*'
        { Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/checks/1700000000000.999" } | Should -Throw '*404*'
    }

    It 'writes a long recipient list it was given on one line folded after its commas, within 78 octets a line' {
        $to = @(1..40 | ForEach-Object { "Recipient Number $_ <recipient.number.$_@example.org>" }) -join ','
        (Invoke-AosRaw -Path "$(Invoke-RawLogin).sdmailact.mail.mms" -Form ([ordered]@{ api = 'lc'; mto = $to; mcc = 'alice@sandbox.test'; msub = 'Folded'; body = "Hi.`r`n"; snd = 'checked' })).Body |
            Should -BeExactly 'OK'
        $spool = @(Get-SandboxSpool)[-1]
        $head = Get-MessageHeaderText -Path $spool.Path
        @($head -split "`r`n" | Where-Object { $_.Length -gt 78 }) | Should -BeNullOrEmpty
        $head | Should -BeLike "*`r`nTo: Recipient Number 1 <recipient.number.1@example.org>,`r`n Recipient Number 2 <*`r`nCc: alice@sandbox.test`r`n*"
        @((Read-MimeMessage -Path $spool.Path).To.Mailboxes.Address) | Should -Be @(1..40 | ForEach-Object { "recipient.number.$_@example.org" })
        @((Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/checks/$($spool.Id)").findings) | Should -BeNullOrEmpty
    }

    It 'lists its rules with their severities, the RFC line limits first' {
        $answer = Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/checks/rules"
        $rules = @($answer)
        $rules[0..1] | ForEach-Object { '{0} {1}' -f $_.id, $_.severity } | Should -Be @('LineTooLong error', 'LineLong warning')
        $documented = [regex]::Matches((Get-Content -Raw (Join-Path $PSScriptRoot '../docs/sandbox.md')), '\| `([A-Za-z0-9]+)` \| (error|warning) \|') |
            ForEach-Object { '{0} {1}' -f $_.Groups[1].Value, $_.Groups[2].Value }
        @($documented) | Should -Be @($rules | ForEach-Object { '{0} {1}' -f $_.id, $_.severity }) -Because 'docs/sandbox.md lists every rule, in order'
    }
}

Describe 'A request body cut before its end' {
    # Kestrel reports a body that ends early ("Unexpected end of request content", a reset) before
    # or after it cancels RequestAborted, by chance: the classification must not depend on it.
    BeforeAll {
        Reset-Sandbox
        $script:Sid = Invoke-RawLogin

        function Send-CutBody {
            # Announces a 100000-byte form, sends its first bytes, then closes (or resets) the connection.
            param([switch] $Reset)
            $uri = [uri]$Sandbox.BaseUri
            $client = [System.Net.Sockets.TcpClient]::new($uri.Host, $uri.Port)
            try {
                $stream = $client.GetStream()
                $head = "POST /$Sid.sdmailact.mail.mms HTTP/1.1`r`nHost: $($uri.Authority)`r`n" +
                    "Content-Type: application/x-www-form-urlencoded`r`nContent-Length: 100000`r`n`r`napi=lc&snd=checked&mto=alice%40sandbox.test&body=" + ('x' * 2000)
                $bytes = [Text.Encoding]::ASCII.GetBytes($head)
                $stream.Write($bytes, 0, $bytes.Length)
                $stream.Flush()
                if ($Reset) { $client.Client.LingerState = [System.Net.Sockets.LingerOption]::new($true, 0) }
            }
            finally { $client.Dispose() }
        }
    }

    It 'records each cut body as dropped (status 0), never as a sandbox error, and acts on none (<How>)' -TestCases @(
        @{ How = 'closed' }, @{ How = 'reset' }
    ) {
        Clear-SandboxRequest
        1..20 | ForEach-Object { Send-CutBody -Reset:($How -eq 'reset') }
        $deadline = [datetime]::UtcNow.AddSeconds(20)
        while (@(Get-SandboxRequest -Command sdmailact | Where-Object Outcome -EQ 'pending').Count -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        $sends = @(Get-SandboxRequest -Command sdmailact)
        $sends.Count | Should -Be 20
        @($sends | Group-Object Outcome, Status | ForEach-Object Name) | Should -Be @('dropped, 0')
        @(Get-SandboxSpool).Count | Should -Be 0
    }
}
