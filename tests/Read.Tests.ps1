# The read side through the built module against the sandbox: Get-AosMailbox, Get-AosMessage
# (listing and reading), Save-AosMessage, Test-AosSession, Remove-AosSession, the -Mailbox
# completer, and the exact wire fields of each read command.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function Start-FakeAos {
        # A minimal stand-in AOS on a free loopback port: any login gets a SID, mboxtable gets
        # the given table. Runs on its own runspace until Stop-FakeAos.
        param([string] $MailboxTable)
        $port = Get-FreeLocalPort
        $listener = [System.Net.HttpListener]::new()
        $listener.Prefixes.Add("http://127.0.0.1:$port/")
        $listener.Start()
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($listener, $table)
                while ($listener.IsListening) {
                    try { $context = $listener.GetContext() } catch { break }
                    $path = $context.Request.Url.AbsolutePath
                    $text = if ($path -like '*st.login.mms') { 'SIDfake0000000000001' }
                    elseif ($path -like '*.mboxtable.mbox.mms') { $table }
                    elseif ($path -like '*sqVry.user.mms') { 'true' }
                    else { "false`r`nunknown command" }
                    $bytes = [Text.Encoding]::UTF8.GetBytes($text)
                    $context.Response.ContentType = 'text/plain; charset=utf-8'
                    $context.Response.OutputStream.Write($bytes, 0, $bytes.Length)
                    $context.Response.Close()
                }
            }).AddArgument($listener).AddArgument($MailboxTable)
        $handle = $ps.BeginInvoke()
        [pscustomobject]@{ Uri = "http://127.0.0.1:$port"; Listener = $listener; PowerShell = $ps; Handle = $handle }
    }

    function Stop-FakeAos {
        param([Parameter(ValueFromPipeline)] $Fake)
        process {
            $Fake.Listener.Stop()
            $Fake.Listener.Close()
            $null = $Fake.Handle.AsyncWaitHandle.WaitOne(5000)
            $Fake.PowerShell.Dispose()
        }
    }

    function Get-Field {
        # The recorded fields of one request as "name=value" strings, in wire order.
        param($Request)
        @($Request.Fields | ForEach-Object { "$($_.Name)=$($_.Value)" })
    }
}

Describe 'Reading mail' {
    BeforeEach {
        Reset-Sandbox
        Get-AosSession | Remove-AosSession
        $demo = New-TestSession
    }

    Context 'Get-AosMailbox' {
        It 'lists the mailboxes with their counts (mboxtable, api=lc only)' {
            Send-AosMessage -To demo@sandbox.test -Subject 'to myself' -Body 'x' -KeepCopy
            Clear-SandboxRequest
            $boxes = @(Get-AosMailbox)
            $boxes.Name | Should -Be 'Inbox', 'Draft', 'Outbox'
            $boxes[0] | Should -BeOfType ([AosMail.AosMailbox])
            $boxes[0].MessageCount | Should -Be 1
            $boxes[0].UnreadCount | Should -Be 1
            $boxes[2].MessageCount | Should -Be 1
            $boxes[0].UserName | Should -Be 'demo@sandbox.test'
            $request = @(Get-SandboxRequest)
            $request.Count | Should -Be 1
            $request[0].Command | Should -Be 'mboxtable'
            $request[0].Method | Should -Be 'POST'
            $request[0].Path | Should -Be '/<SID>.mboxtable.mbox.mms'
            Get-Field $request[0] | Should -Be 'api=lc'
        }
    }

    Context 'Get-AosMessage listing' {
        It 'lists newest first with decoded non-ASCII subjects, local dates and folded excerpts; wire fields api, mbox' {
            $before = [DateTime]::Now.AddSeconds(-2)
            Send-AosMessage -To alice@sandbox.test -Subject 'first plain' -Body "one`ttab`nnew line`r`nend"
            Send-AosMessage -To alice@sandbox.test -Subject 'Größe – 報告 ✓' -Body 'Grüße aus Köln'
            $alice = New-TestSession -UserName alice@sandbox.test -Password 'Alice-Passw0rd'
            Clear-SandboxRequest
            $list = @(Get-AosMessage -Session $alice)
            $list.Count | Should -Be 2
            $list[0] | Should -BeOfType ([AosMail.AosMessageInfo])
            $list[0].Subject | Should -BeExactly 'Größe – 報告 ✓'
            $list[0].Excerpt | Should -BeExactly 'Grüße aus Köln'
            $list[1].Subject | Should -Be 'first plain'
            $list[1].Excerpt | Should -BeExactly 'one tab new line end'
            $list[1].From | Should -Be 'demo@sandbox.test'
            $list[1].To | Should -Be 'alice@sandbox.test'
            $list[1].ContentType | Should -Be 'text/plain'
            $list[1].IsRead | Should -BeFalse
            $list[1].Mailbox | Should -Be 'Inbox'
            $list[1].DraftId | Should -BeNullOrEmpty
            $list[1].Date.Kind | Should -Be 'Local'
            $list[1].Date | Should -BeGreaterOrEqual $before.AddTicks(-$before.Ticks % [TimeSpan]::TicksPerSecond)
            $list[1].Date | Should -BeLessOrEqual ([DateTime]::Now)
            $files = @(Get-SandboxMessage -User alice@sandbox.test -Mailbox Inbox)
            $list[1].Id | Should -Be $files[0].Id
            $list[1].Size | Should -Be (Get-Item -LiteralPath $files[0].Path).Length
            $request = @(Get-SandboxRequest -Command openbox)
            $request.Count | Should -Be 1
            $request[0].Path | Should -Be '/<SID>.openbox.mbox.mms'
            Get-Field $request[0] | Should -Be 'api=lc', 'mbox=Inbox'
        }

        It 'sends LCTop for -First and returns the newest N' {
            1..4 | ForEach-Object { Send-AosMessage -To demo@sandbox.test -Subject "n$_" -Body 'x' }
            Clear-SandboxRequest
            $list = @(Get-AosMessage -Mailbox Inbox -First 2)
            $list.Subject | Should -Be 'n4', 'n3'
            Get-Field (Get-SandboxRequest -Command openbox) | Should -Be 'api=lc', 'mbox=Inbox', 'LCTop=2'
        }

        It 'returns nothing and no error for an empty mailbox' {
            $list = @(Get-AosMessage -Mailbox Outbox -ErrorVariable problems)
            $list.Count | Should -Be 0
            $problems.Count | Should -Be 0
        }

        It 'reads six-field legacy lines (no content type, recipients or read state)' {
            Send-AosMessage -To demo@sandbox.test -Subject 'legacy' -Body 'old server'
            $null = Set-SandboxOption -LegacyOpenbox $true
            $row = Get-AosMessage
            $row.Subject | Should -Be 'legacy'
            $row.Excerpt | Should -Be 'old server'
            $row.ContentType | Should -BeNullOrEmpty
            $row.To | Should -BeNullOrEmpty
            $row.IsRead | Should -BeNullOrEmpty
        }

        It 'refuses an unknown mailbox with AosInvalidMailbox after checking the session' {
            Clear-SandboxRequest
            { Get-AosMessage -Mailbox 'No Such Box' -ErrorAction Stop } | Should -Throw -ErrorId 'AosInvalidMailbox,AosMail.Commands.GetAosMessageCommand'
            (Get-SandboxRequest).Command | Should -Be 'openbox', 'sqVry'
        }

        It 'names the mailbox, not the session, as the target of AosInvalidMailbox' {
            Get-AosMessage -Mailbox Nope -ErrorAction SilentlyContinue -ErrorVariable problems
            $problems[0].TargetObject | Should -Be 'Nope'
            $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
    }

    Context 'Get-AosMessage -Id' {
        BeforeEach {
            $folder = Join-Path $TestDrive ([guid]::NewGuid())
            $null = New-Item -ItemType Directory $folder
            $csv = Join-Path $folder 'figures.csv'
            Set-Content -LiteralPath $csv -Value "q,r`n1,2" -NoNewline
            Send-AosMessage -To alice@sandbox.test -Cc bob@sandbox.test -Subject 'Report – Q3' -BodyAsHtml `
                -Body '<h1>Q3</h1><p>See attached.</p>' -Attachments $csv
            $alice = New-TestSession -UserName alice@sandbox.test -Password 'Alice-Passw0rd'
            $stored = @(Get-SandboxMessage -User alice@sandbox.test -Mailbox Inbox)[0]
        }

        It 'reads a multipart message into an AosMailMessage (wire fields api, mbox, file; marks it read)' {
            $row = Get-AosMessage -Session $alice
            $row.IsRead | Should -BeFalse
            $row.ContentType | Should -Be 'multipart/mixed'
            Clear-SandboxRequest
            $message = Get-AosMessage -Session $alice -Id $row.Id -Mailbox Inbox
            $message | Should -BeOfType ([AosMail.AosMailMessage])
            $message.Subject | Should -BeExactly 'Report – Q3'
            $message.From | Should -Be 'demo@sandbox.test'
            $message.To | Should -Be 'alice@sandbox.test'
            $message.Cc | Should -Be 'bob@sandbox.test'
            $message.HtmlBody | Should -BeLike '*<h1>Q3</h1>*'
            $message.TextBody | Should -BeNullOrEmpty
            $message.AttachmentNames | Should -Be 'figures.csv'
            $message.ContentType | Should -Be 'multipart/mixed'
            ($message.Headers | Where-Object Name -EQ 'Subject').Value | Should -BeExactly 'Report – Q3'
            $message.Size | Should -Be (Get-Item -LiteralPath $stored.Path).Length
            $message.Date.Kind | Should -Be 'Local'
            $request = @(Get-SandboxRequest)
            $request.Count | Should -Be 1
            $request[0].Path | Should -Be '/<SID>.rdmail.mbox.mms'
            Get-Field $request[0] | Should -Be 'api=lc', 'mbox=Inbox', "file=$($row.Id)"
            (Get-AosMessage -Session $alice).IsRead | Should -BeTrue
        }

        It 'reads the rows piped from a listing through the session they were listed with' {
            # The default session is demo's; alice's rows must still be read as alice.
            $messages = @(Get-AosMessage -Session $alice | Get-AosMessage)
            $messages.Count | Should -Be 1
            $messages[0].Subject | Should -Be 'Report – Q3'
            $messages[0].UserName | Should -Be 'alice@sandbox.test'
        }

        It '-Raw returns one byte[] identical to the stored file' {
            $raw = Get-AosMessage -Session $alice -Id $stored.Id -Mailbox Inbox -Raw
            , $raw | Should -BeOfType ([byte[]])
            [Convert]::ToBase64String($raw) | Should -BeExactly ([Convert]::ToBase64String([IO.File]::ReadAllBytes($stored.Path)))
        }

        It '-AsMimeMessage returns the module''s own MimeKit.MimeMessage, renamed so that no other MimeKit meets it' {
            $mime = Get-AosMessage -Session $alice -Id $stored.Id -AsMimeMessage
            $mime.GetType().FullName | Should -Be 'AosMail.MimeKit.MimeMessage'
            $mime.GetType().Assembly.GetName().Name | Should -Be 'AosMail.MimeKit'
            $mime.Subject | Should -BeExactly 'Report – Q3'
            @($mime.Attachments).Count | Should -Be 1
        }

        It 'refuses -Raw with -AsMimeMessage, and -First with -Id, before any request' {
            Clear-SandboxRequest
            { Get-AosMessage -Id $stored.Id -Raw -AsMimeMessage } | Should -Throw -ErrorId 'AosConflictingParameters,AosMail.Commands.GetAosMessageCommand'
            { Get-AosMessage -Id $stored.Id -First 1 } | Should -Throw -ErrorId 'AosConflictingParameters,AosMail.Commands.GetAosMessageCommand'
            @(Get-SandboxRequest).Count | Should -Be 0
        }

        It 'reports an unknown id as AosMessageNotFound and a malformed id as AosInvalidMessageId (no request)' {
            { Get-AosMessage -Session $alice -Id '1.999' -ErrorAction Stop } | Should -Throw -ErrorId 'AosMessageNotFound,AosMail.Commands.GetAosMessageCommand'
            Clear-SandboxRequest
            { Get-AosMessage -Session $alice -Id '../etc/passwd' -ErrorAction Stop } | Should -Throw -ErrorId 'AosInvalidMessageId,AosMail.Commands.GetAosMessageCommand'
            @(Get-SandboxRequest).Count | Should -Be 0
        }
    }

    Context 'Save-AosMessage' {
        It 'saves a message byte for byte to a relative -Path, refuses to overwrite without -Force' {
            Send-AosMessage -To demo@sandbox.test -Subject 'keep me' -Body "Grüße`nline 2" -Attachments $PSCommandPath
            $stored = @(Get-SandboxMessage -User demo@sandbox.test -Mailbox Inbox)[0]
            Push-Location $TestDrive
            try {
                $file = Get-AosMessage | Save-AosMessage -Path 'copy.eml' -PassThru
                $file.FullName | Should -Be (Join-Path $TestDrive 'copy.eml')
                (Get-FileHash $file.FullName).Hash | Should -Be (Get-FileHash $stored.Path).Hash
                { Save-AosMessage -Id $stored.Id -Path 'copy.eml' -ErrorAction Stop } | Should -Throw -ErrorId 'AosFileExists,AosMail.Commands.SaveAosMessageCommand'
                Set-Content -LiteralPath copy.eml -Value 'other'
                Save-AosMessage -Id $stored.Id -Path 'copy.eml' -Force
                (Get-FileHash copy.eml).Hash | Should -Be (Get-FileHash $stored.Path).Hash
            }
            finally { Pop-Location }
        }

        It '-WhatIf writes nothing and reads nothing' {
            Send-AosMessage -To demo@sandbox.test -Subject 'x' -Body 'x'
            $row = Get-AosMessage
            Clear-SandboxRequest
            $target = Join-Path $TestDrive 'whatif.eml'
            $row | Save-AosMessage -Path $target -WhatIf
            Test-Path -LiteralPath $target | Should -BeFalse
            @(Get-SandboxRequest).Count | Should -Be 0
        }

        It 'saves 100 piped messages into -Destination as Id.eml files, byte-identical' {
            $sid = Invoke-RawLogin
            foreach ($n in 1..100) {
                $answer = Invoke-AosRaw -Path "$sid.sdmailact.mail.mms" -Form ([ordered]@{ api = 'lc'; mto = 'demo@sandbox.test'; msub = "bulk $n"; body = "message $n`r`nÄ"
                        mheader = "MIME-Version: 1.0`r`nContent-Type: text/plain; charset=utf-8`r`nContent-Transfer-Encoding: 8bit"; snd = 'checked' })
                $answer.Body | Should -Be 'OK'
            }
            $folder = Join-Path $TestDrive 'bulk'
            $null = New-Item -ItemType Directory $folder
            $rows = @(Get-AosMessage)
            $rows.Count | Should -Be 100
            $rows | Save-AosMessage -Destination $folder
            $stored = @(Get-SandboxMessage -User demo@sandbox.test -Mailbox Inbox)
            $written = @(Get-ChildItem -LiteralPath $folder -File | Sort-Object Name)
            $written.Name | Should -Be ($stored | ForEach-Object { "$($_.Id).eml" })
            foreach ($message in $stored) {
                (Get-FileHash (Join-Path $folder "$($message.Id).eml")).Hash | Should -Be (Get-FileHash $message.Path).Hash
            }
        }

        It 'needs exactly one of -Path and -Destination, and an existing destination folder' {
            { Save-AosMessage -Id 1.000 } | Should -Throw -ErrorId 'AosConflictingParameters,AosMail.Commands.SaveAosMessageCommand'
            { Save-AosMessage -Id 1.000 -Path a.eml -Destination $TestDrive } | Should -Throw -ErrorId 'AosConflictingParameters,AosMail.Commands.SaveAosMessageCommand'
            { Save-AosMessage -Id 1.000 -Destination (Join-Path $TestDrive 'missing') } | Should -Throw -ErrorId 'AosInvalidPath,AosMail.Commands.SaveAosMessageCommand'
        }
    }

    Context 'expired and dropped sessions' {
        It 'renews a session expired on openbox once and repeats the listing (openbox, sqVry, login, openbox)' {
            Send-AosMessage -To demo@sandbox.test -Subject 'still here' -Body 'x'
            Add-SandboxFault -Command openbox -Action expire
            Clear-SandboxRequest
            (Get-AosMessage).Subject | Should -Be 'still here'
            (Get-SandboxRequest).Command | Should -Be 'openbox', 'sqVry', 'login', 'openbox'
        }

        It 'renews after idle expiry before reading a message' {
            Send-AosMessage -To demo@sandbox.test -Subject 'idle' -Body 'x'
            $row = Get-AosMessage
            $null = Set-SandboxOption -IdleSeconds 1
            Start-Sleep -Milliseconds 2500
            Clear-SandboxRequest
            (Get-AosMessage -Id $row.Id).Subject | Should -Be 'idle'
            (Get-SandboxRequest).Command | Should -Be 'rdmail', 'sqVry', 'login', 'rdmail'
        }

        It 'repeats a read once when the connection drops (openbox twice), and fails cleanly when it drops again' {
            Send-AosMessage -To demo@sandbox.test -Subject 'dropped' -Body 'x'
            Add-SandboxFault -Command openbox -Action dropBefore
            Clear-SandboxRequest
            (Get-AosMessage).Subject | Should -Be 'dropped'
            (Get-SandboxRequest).Command | Should -Be 'openbox', 'openbox'

            Add-SandboxFault -Command openbox -Action dropBefore -Times 2
            Clear-SandboxRequest
            { Get-AosMessage -ErrorAction Stop } | Should -Throw -ErrorId 'AosConnectionFailed,AosMail.Commands.GetAosMessageCommand'
            (Get-SandboxRequest).Command | Should -Be 'openbox', 'openbox'
        }
    }

    Context 'Test-AosSession and Remove-AosSession' {
        It 'is true for a live session and false (no error) once it expired; sends sid= only' {
            Clear-SandboxRequest
            Test-AosSession | Should -BeTrue
            $request = @(Get-SandboxRequest)
            $request.Count | Should -Be 1
            $request[0].Path | Should -Be '/sqVry.user.mms'
            Get-Field $request[0] | Should -Be 'sid=<masked>'
            $null = Set-SandboxOption -IdleSeconds 1
            Start-Sleep -Milliseconds 2500
            Test-AosSession -ErrorVariable problems | Should -BeFalse
            $problems.Count | Should -Be 0
        }

        It 'checks piped sessions one by one' {
            $alice = New-TestSession -UserName alice@sandbox.test -Password 'Alice-Passw0rd'
            Add-SandboxFault -Command sqVry -Action expire
            $results = @($demo, $alice | Test-AosSession)
            $results | Should -Be $false, $true
        }

        It 'moves the default to the newest remaining session and clears the removed one' {
            $alice = New-TestSession -UserName alice@sandbox.test -Password 'Alice-Passw0rd'
            $bob = New-TestSession -UserName bob@sandbox.test -Password 'Bob-Passw0rd'
            (Get-AosSession -Default).UserName | Should -Be 'bob@sandbox.test'
            Remove-AosSession -WhatIf
            (Get-AosMailbox)[0].UserName | Should -Be 'bob@sandbox.test'
            Remove-AosSession
            (Get-AosMailbox)[0].UserName | Should -Be 'alice@sandbox.test'
            Test-AosSession -Session $bob | Should -BeFalse
            { Get-AosMailbox -Session $bob } | Should -Throw -ErrorId 'AosNoSession,AosMail.Commands.GetAosMailboxCommand'
            $alice, $demo | Remove-AosSession
            @(Get-AosSession).Count | Should -Be 0
            { Get-AosMailbox } | Should -Throw -ErrorId 'AosNoSession,AosMail.Commands.GetAosMailboxCommand'
            { Test-AosSession } | Should -Throw -ErrorId 'AosNoSession,AosMail.Commands.TestAosSessionCommand'
        }
    }

    Context 'the -Mailbox completer' {
        It 'completes the default session''s mailboxes through TabExpansion2' {
            $result = TabExpansion2 -inputScript 'Get-AosMessage -Mailbox ' -cursorColumn 'Get-AosMessage -Mailbox '.Length
            $result.CompletionMatches.CompletionText | Should -Be 'Inbox', 'Draft', 'Outbox'
            $result = TabExpansion2 -inputScript 'Save-AosMessage -Mailbox o' -cursorColumn 'Save-AosMessage -Mailbox o'.Length
            $result.CompletionMatches.CompletionText | Should -Be 'Outbox'
            (Get-SandboxRequest -Command mboxtable).Count | Should -Be 2
        }

        It 'uses -Session from the command line, and quotes names with spaces' {
            # A stand-in AOS whose mailbox table has names the sandbox does not: proves both that
            # -Session (not the default, demo's sandbox session) is asked, and the quoting.
            $fake = Start-FakeAos -MailboxTable "Inbox`t2`t1`r`nSent Items`t5`t0`r`nJohn's box`t0`t0`r`nDrafts"
            try {
                $global:AosFakeSession = New-AosSession -Server $fake.Uri -Credential (New-TestCredential) -AllowUnencryptedAuthentication
                Remove-AosSession -Session $global:AosFakeSession -WhatIf
                $null = New-TestSession   # the default again
                $line = 'Get-AosMessage -Session $AosFakeSession -Mailbox '
                $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                $result.CompletionMatches.CompletionText | Should -Be 'Inbox', "'Sent Items'", "'John''s box'", 'Drafts'
                $result.CompletionMatches[1].ListItemText | Should -Be 'Sent Items'
                $line = 'Save-AosMessage -Session $AosFakeSession -Mailbox ''sen'
                $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                $result.CompletionMatches.CompletionText | Should -Be "'Sent Items'"
                @(Get-SandboxRequest -Command mboxtable).Count | Should -Be 0
            }
            finally {
                Remove-Variable -Scope Global -Name AosFakeSession -ErrorAction Ignore
                $fake | Stop-FakeAos
            }
        }

        It 'completes nothing (and does not throw) without a session' {
            Remove-AosSession
            $result = TabExpansion2 -inputScript 'Get-AosMessage -Mailbox ' -cursorColumn 'Get-AosMessage -Mailbox '.Length
            @($result.CompletionMatches | Where-Object ResultType -EQ ParameterValue).Count | Should -Be 0
        }
    }
}
