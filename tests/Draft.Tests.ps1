# The draft workflow through the built module against the sandbox: Save-AosDraft's DraftId
# (Draft listing before/after the save; the candidates' content compared with what was posted
# when several drafts appear), the save -> overwrite -> send loop, and drafts piped from
# Get-AosMessage into the send cmdlets. Nothing of the module's own goes into a draft (B24).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function Get-Draft {
        @(Get-SandboxMessage -User demo@sandbox.test -Mailbox Draft)
    }
}

Describe 'Drafts' {
    BeforeEach {
        Reset-Sandbox
        Get-AosSession | Remove-AosSession
        $demo = New-TestSession
    }

    It 'saves a draft with svdrf and always outputs a result' {
        $out = @(Save-AosDraft -To 'alice@sandbox.test' -Subject 'Draft one' -Body 'first')
        Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'Draft one'), @('body', 'first'), @('svdrf', 'checked'))
        $out.Count | Should -Be 1
        $out[0] | Should -BeOfType ([AosMail.AosSendResult])
        $out[0].Action | Should -BeExactly 'SaveDraft'
        $out[0].ServerAnswer | Should -BeExactly 'OK'
        (Get-OnlyMessage -User 'demo@sandbox.test' -Mailbox Draft).Subject | Should -BeExactly 'Draft one'
        @(Get-SandboxSpool).Count | Should -Be 0
        @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 0
    }

    It 'saves a draft without recipients' {
        $null = Save-AosDraft -Subject 'no one yet'
        Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('msub', 'no one yet'), @('svdrf', 'checked'))
        (Get-OnlyMessage -User 'demo@sandbox.test' -Mailbox Draft).Subject | Should -BeExactly 'no one yet'
    }

    It 'outputs the new draft''s DraftId, found by listing Draft before and after the save' {
        Send-AosMessage -To demo@sandbox.test -Subject 'noise in the inbox' -Body 'x'
        $null = Save-AosDraft -Subject 'older draft' -Body 'older'
        Clear-SandboxRequest
        $saved = Save-AosDraft -To bob@sandbox.test -Subject 'Plan' -Body 'v1'
        $saved | Should -BeOfType ([AosMail.AosSendResult])
        $file = Get-Draft | Where-Object { (Get-MessageBodyText $_.Path) -eq 'v1' }
        $saved.DraftId | Should -Be $file.Id
        $requests = @(Get-SandboxRequest)
        $requests.Command | Should -Be 'openbox', 'sdmailact', 'openbox'
        foreach ($list in $requests[0], $requests[2]) {
            @($list.Fields | ForEach-Object { "$($_.Name)=$($_.Value)" }) | Should -Be 'api=lc', 'mbox=Draft'
        }
        # Exactly the fields the caller gave: no mheader of the module's own (B24).
        @($requests[1].Fields | ForEach-Object { "$($_.Name)=$($_.Value)" }) | Should -Be 'api=lc', 'mto=bob@sandbox.test', 'msub=Plan', 'body=v1', 'svdrf=checked'
        [IO.File]::ReadAllText($file.Path) | Should -Not -Match '(?im)^X-AosMail'
    }

    It 'gives two drafts with the same subject different, correct DraftIds' {
        $one = Save-AosDraft -Subject 'Same' -Body 'first'
        $two = Save-AosDraft -Subject 'Same' -Body 'second'
        $one.DraftId | Should -Not -Be $two.DraftId
        Get-MessageBodyText (Get-Draft | Where-Object Id -EQ $one.DraftId).Path | Should -Be 'first'
        Get-MessageBodyText (Get-Draft | Where-Object Id -EQ $two.DraftId).Path | Should -Be 'second'
    }

    It 'picks its own draft by content when another client saves a draft <Case> at the same moment' -ForEach @(
        @{ Case = 'with the same subject'; Ours = @{ To = 'bob@sandbox.test'; Subject = 'Race'; Body = 'ours' }; Theirs = [ordered]@{ mto = 'bob@sandbox.test'; msub = 'Race'; body = 'theirs' } }
        @{ Case = 'to another recipient'; Ours = @{ To = 'bob@sandbox.test'; Subject = 'Race'; Body = 'same' }; Theirs = [ordered]@{ mto = 'alice@sandbox.test'; msub = 'Race'; body = 'same' } }
        @{ Case = 'with the same text but no attachment'; Ours = @{ To = 'bob@sandbox.test'; Subject = 'Race'; Body = 'same'; Attachments = 'race.csv' }; Theirs = [ordered]@{ mto = 'bob@sandbox.test'; msub = 'Race'; body = 'same' } }
        # A single-part HTML body has no boundary to tell it apart: its text is compared.
        @{ Case = 'with the same MIME headers and another HTML body'; Ours = @{ To = 'bob@sandbox.test'; Subject = 'Race'; Body = '<p>ours</p>'; BodyAsHtml = $true }
           Theirs = [ordered]@{ mto = 'bob@sandbox.test'; msub = 'Race'; body = '<p>theirs</p>'; mheader = "MIME-Version: 1.0`r`nContent-Type: text/html; charset=utf-8`r`nContent-Transfer-Encoding: 7bit" } }
    ) {
        Set-Content -LiteralPath (Join-Path $TestDrive 'race.csv') -Value 'a,b'
        # Our save is held for 3 s; meanwhile another client saves its draft.
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 3000
        $sid = Invoke-RawLogin
        $form = [ordered]@{ api = 'lc' } + $Theirs + [ordered]@{ svdrf = 'checked' }
        $helpers = Join-Path $PSScriptRoot 'TestHelpers.psm1'
        $other = Start-ThreadJob -ArgumentList $helpers, $sid, $Sandbox.BaseUri, $env:AOS_SANDBOX_URI, $form -ScriptBlock {
            param($helpers, $sid, $base, $uri, $form)
            $env:AOS_SANDBOX_URI = $uri
            Import-Module $helpers
            # While our save is held, never by a guess of how long a start takes.
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not @(Get-SandboxRequest -Command sdmailact | Where-Object { $_.Fault -eq 'delay' -and $_.Outcome -eq 'pending' }).Count -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 20
            }
            (Invoke-AosRaw -BaseUri $base -Path "$sid.sdmailact.mail.mms" -Form $form).Body
        }
        Clear-SandboxRequest
        Push-Location $TestDrive
        try { $saved = Save-AosDraft @Ours } finally { Pop-Location }
        $other | Wait-Job | Receive-Job | Should -Be 'OK'
        $other | Remove-Job
        @(Get-Draft).Count | Should -Be 2
        $mine = Read-MimeMessage -Path (Get-Draft | Where-Object Id -EQ $saved.DraftId).Path
        @($mine.To.Mailboxes.Address) | Should -Be $Ours.To
        $(if ($Ours['BodyAsHtml']) { $mine.HtmlBody } else { $mine.TextBody }).TrimEnd() | Should -Be $Ours.Body
        @($mine.Attachments).Count | Should -Be @($Ours['Attachments'] | Where-Object { $_ }).Count
        # Two new ids, so the candidates were read (rdmail) and compared; the saved draft has nothing of the module's own.
        @(Get-SandboxRequest -Command rdmail).Count | Should -BeGreaterOrEqual 1
        $save = @(Get-SandboxRequest -Command sdmailact)[0]
        $expected = @('api', 'mto', 'msub', 'body') + @(if ($Ours['Attachments'] -or $Ours['BodyAsHtml']) { 'mheader' }) + 'svdrf'
        @($save.Fields.Name) | Should -Be $expected
    }

    It 'leaves DraftId empty, with a warning, when two identical drafts are saved at the same moment' {
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 3000
        $sid = Invoke-RawLogin
        $helpers = Join-Path $PSScriptRoot 'TestHelpers.psm1'
        $other = Start-ThreadJob -ArgumentList $helpers, $sid, $Sandbox.BaseUri, $env:AOS_SANDBOX_URI -ScriptBlock {
            param($helpers, $sid, $base, $uri)
            $env:AOS_SANDBOX_URI = $uri
            Import-Module $helpers
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not @(Get-SandboxRequest -Command sdmailact | Where-Object { $_.Fault -eq 'delay' -and $_.Outcome -eq 'pending' }).Count -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 20
            }
            (Invoke-AosRaw -BaseUri $base -Path "$sid.sdmailact.mail.mms" -Form ([ordered]@{ api = 'lc'; msub = 'Twin'; body = 'same'; svdrf = 'checked' })).Body
        }
        $saved = Save-AosDraft -Subject 'Twin' -Body 'same' -WarningVariable warned -WarningAction SilentlyContinue
        $other | Wait-Job | Receive-Job | Should -Be 'OK'
        $other | Remove-Job
        @(Get-Draft).Count | Should -Be 2
        $saved.DraftId | Should -BeNullOrEmpty
        "$warned" | Should -BeLike '*2 of the 2 new messages*identical drafts*'
    }

    It 'does not send on the bookkeeping header a draft saved by AosMail 0.1 carries' {
        $sid = Invoke-RawLogin
        $null = Invoke-AosRaw -Path "$sid.sdmailact.mail.mms" -Form ([ordered]@{
                api = 'lc'; mto = 'bob@sandbox.test'; msub = 'Old draft'; body = 'old'
                mheader = "X-Company: Example`r`nX-AosMail-Draft-Token: 0123456789abcdef0123456789abcdef"; svdrf = 'checked'
            })
        Get-AosMessage -Mailbox Draft | Send-AosMessage
        $delivered = Read-MimeMessage -Path (Get-SandboxMessage -User bob@sandbox.test -Mailbox Inbox)[0].Path
        $delivered.Headers['X-Company'] | Should -Be 'Example'
        $delivered.Headers['X-AosMail-Draft-Token'] | Should -BeNullOrEmpty
    }

    It 'runs the loop save -> overwrite (same id, mid on the wire) -> send as saved: one delivery, the draft gone, a copy in Outbox' {
        $d = Save-AosDraft -To bob@sandbox.test -Subject 'Loop v1' -Body 'first'
        @(Get-Draft).Count | Should -Be 1
        $d.DraftId | Should -BeExactly (Get-Draft)[0].Id
        $d.DraftId | Should -Match '^[A-Za-z0-9._-]{1,64}$'

        $d2 = Save-AosDraft -DraftId $d.DraftId -To bob@sandbox.test -Subject 'Loop v2' -Body 'second'
        $saves = @(Get-SandboxRequest -Command sdmailact)
        $saves.Count | Should -Be 2
        Assert-FieldList $saves[1] @(@('api', 'lc'), @('mid', $d.DraftId), @('mto', 'bob@sandbox.test'), @('msub', 'Loop v2'), @('body', 'second'), @('svdrf', 'checked'))
        $d2.DraftId | Should -BeExactly $d.DraftId
        @(Get-Draft).Count | Should -Be 1
        (Get-Draft)[0].Id | Should -BeExactly $d.DraftId
        $draft = Read-MimeMessage -Path (Get-Draft)[0].Path
        $draft.Subject | Should -BeExactly 'Loop v2'
        $draft.TextBody.TrimEnd() | Should -BeExactly 'second'

        $sent = Send-AosMessage -DraftId $d.DraftId -To bob@sandbox.test -KeepCopy -PassThru
        $sent.DraftId | Should -BeExactly $d.DraftId
        $sends = @(Get-SandboxRequest -Command sdmailact)
        $sends.Count | Should -Be 3
        # The saved subject and body are posted again (a plain draft has no header to carry over).
        Assert-FieldList $sends[2] @(@('api', 'lc'), @('mid', $d.DraftId), @('mto', 'bob@sandbox.test'), @('msub', 'Loop v2'), @('body', 'second'), @('snd', 'checked'), @('keepcopy', 'checked'))
        # The sandbox, like AOS, removes a draft once it is sent.
        @(Get-Draft).Count | Should -Be 0
        $delivered = Get-OnlyMessage -User bob@sandbox.test
        $delivered.Subject | Should -BeExactly 'Loop v2'
        $delivered.TextBody | Should -BeExactly 'second'
        $delivered.Headers['X-AosMail-Draft-Token'] | Should -BeNullOrEmpty
        (Read-MimeMessage -Path (Get-OnlySpool).Path).Subject | Should -BeExactly 'Loop v2'
        @(Get-SandboxMessage -User demo@sandbox.test -Mailbox Outbox).Count | Should -Be 1
    }

    It 'confirms an overwritten id and sends mbox= the session''s DraftMailbox (B18)' {
        $session = New-TestSession -DraftMailbox DRAFT
        $d = Save-AosDraft -Session $session -Subject 'renamed box' -Body 'a'
        Clear-SandboxRequest
        $again = Save-AosDraft -Session $session -DraftId $d.DraftId -Subject 'renamed box' -Body 'b'
        $again.DraftId | Should -Be $d.DraftId
        (Get-SandboxRequest -Command openbox | ForEach-Object { ($_.Fields | Where-Object Name -EQ mbox).Value }) | Should -Be 'DRAFT', 'DRAFT'
    }

    It 'sends a draft piped from Get-AosMessage -Mailbox Draft with its saved HTML and attachment' {
        $csv = Join-Path $TestDrive 'data.csv'
        Set-Content -LiteralPath $csv -Value "a,b`n1,2" -NoNewline
        $null = Save-AosDraft -Subject 'Other draft' -Body 'stays'
        $null = Save-AosDraft -To bob@sandbox.test -Cc alice@sandbox.test -Subject 'Größe report' -BodyAsHtml -Body '<p>Hello <b>Bob</b></p>' -Attachments $csv -Priority High
        $draftFile = Get-Draft | Where-Object { (Read-MimeMessage -Path $_.Path).Subject -eq 'Größe report' }
        $draftBody = Get-MessageBodyText $draftFile.Path

        Get-AosMessage -Mailbox Draft | Where-Object Subject -EQ 'Größe report' | Send-AosMessage -KeepCopy

        @(Get-Draft).Count | Should -Be 1
        foreach ($user in 'bob@sandbox.test', 'alice@sandbox.test') {
            $inbox = @(Get-SandboxMessage -User $user -Mailbox Inbox)
            $inbox.Count | Should -Be 1
            $sent = Read-MimeMessage -Path $inbox[0].Path
            $sent.Subject | Should -Be 'Größe report'
            $sent.HtmlBody | Should -BeLike '*<p>Hello <b>Bob</b></p>*'
            @($sent.Attachments).Count | Should -Be 1
            @($sent.Attachments)[0].FileName | Should -Be 'data.csv'
            $sent.Headers['X-Priority'] | Should -Be '2'
            $sent.Headers['X-AosMail-Draft-Token'] | Should -BeNullOrEmpty
        }
        # The sent body is the draft's body, byte for byte.
        Get-MessageBodyText (Get-SandboxMessage -User bob@sandbox.test -Mailbox Inbox)[0].Path | Should -BeExactly $draftBody
    }

    It 'sends new content over a piped draft when a body is given' {
        $null = Save-AosDraft -To bob@sandbox.test -Subject 'Rewrite me' -Body 'old text'
        Get-AosMessage -Mailbox Draft | Send-AosMessage -Body 'new text'
        @(Get-Draft).Count | Should -Be 0
        (Read-MimeMessage -Path (Get-SandboxMessage -User bob@sandbox.test -Mailbox Inbox)[0].Path).TextBody | Should -Be 'new text'
    }

    It 'refuses an Inbox message piped into Send-AosMessage or Save-AosDraft (AosNotADraft), sending nothing' {
        Send-AosMessage -To demo@sandbox.test -Subject 'Inbox mail' -Body 'x'
        Clear-SandboxRequest
        $row = Get-AosMessage -Mailbox Inbox
        $row | Send-AosMessage -To bob@sandbox.test -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems.Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -Be 'AosNotADraft,AosMail.Commands.SendAosMessageCommand'
        $problems[0].TargetObject.Id | Should -Be $row.Id
        { $row | Save-AosDraft -ErrorAction Stop } | Should -Throw -ErrorId 'AosNotADraft,AosMail.Commands.SaveAosDraftCommand'
        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
        @(Get-SandboxMessage -User bob@sandbox.test -Mailbox Inbox).Count | Should -Be 0
    }

    It 'refuses a draft listed with another session' {
        $null = Save-AosDraft -Subject 'mine' -Body 'x'
        $rows = @(Get-AosMessage -Mailbox Draft)
        $null = New-TestSession -UserName alice@sandbox.test -Password 'Alice-Passw0rd'
        { $rows | Send-AosMessage -To bob@sandbox.test -ErrorAction Stop } | Should -Throw -ErrorId 'AosNotADraft,AosMail.Commands.SendAosMessageCommand'
        @(Get-Draft).Count | Should -Be 1
    }

    # AOS, like the sandbox and many servers, keeps no Bcc in a draft: nothing of it is lost
    # silently. A server that keeps it is played by adding the header to the stored draft file.
    Context 'Bcc and drafts' {
        It 'warns after Save-AosDraft -Bcc that the stored draft holds no Bcc, and how to give it again' {
            $result = Invoke-Captured { Save-AosDraft -To bob@sandbox.test -Bcc carol@sandbox.test -Subject 'Plan' -Body 'x' }
            $result.Errors.Count | Should -Be 0
            $result.Output.Count | Should -Be 1
            $id = $result.Output[0].DraftId
            $id | Should -BeExactly (Get-Draft)[0].Id
            $result.Warnings.Count | Should -Be 1
            "$($result.Warnings[0])" | Should -BeLike "*without its Bcc (carol@sandbox.test)*Send-AosMessage -DraftId $id -Bcc*"
            # The save posted the Bcc, then read the stored draft to see whether it was kept.
            $result.Requests.Command | Should -Be 'openbox', 'sdmailact', 'openbox', 'rdmail'
            ($result.Requests[1].Fields | Where-Object Name -EQ mbcc).Value | Should -BeExactly 'carol@sandbox.test'
            [IO.File]::ReadAllText((Get-Draft)[0].Path) | Should -Not -Match '(?im)^Bcc:'
        }

        It 'reads nothing back and warns of nothing when no -Bcc is given' {
            $result = Invoke-Captured { Save-AosDraft -To bob@sandbox.test -Subject 'Plan' -Body 'x' }
            $result.Warnings.Count | Should -Be 0
            $result.Requests.Command | Should -Be 'openbox', 'sdmailact', 'openbox'
        }

        It 'sends a Bcc the stored draft holds when the draft is sent as saved' {
            $draft = Save-AosDraft -To bob@sandbox.test -Subject 'Kept Bcc' -Body 'x' -WarningAction SilentlyContinue
            # A server that keeps Bcc in drafts: the stored draft gets the header the sandbox drops.
            $path = (Get-Draft)[0].Path
            $text = [IO.File]::ReadAllText($path)
            [IO.File]::WriteAllText($path, $text.Replace("To: bob@sandbox.test`r`n", "To: bob@sandbox.test`r`nBcc: alice@sandbox.test`r`n"))
            Clear-SandboxRequest

            $sent = Send-AosMessage -DraftId $draft.DraftId -To bob@sandbox.test -PassThru
            $sent.Bcc | Should -Be @('alice@sandbox.test')
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mid', $draft.DraftId), @('mto', 'bob@sandbox.test'), @('mbcc', 'alice@sandbox.test'),
                @('msub', 'Kept Bcc'), @('body', 'x'), @('snd', 'checked'))
            $delivered = Get-OnlyMessage -User alice@sandbox.test
            $delivered.Subject | Should -BeExactly 'Kept Bcc'
            $delivered.Bcc.Count | Should -Be 0
            (Get-OnlyMessage -User bob@sandbox.test).Subject | Should -BeExactly 'Kept Bcc'
        }

        It 'names the saved subject of a draft sent as saved, with -WhatIf (by id and piped) and -Verbose, and -WhatIf sends nothing' {
            $draft = Save-AosDraft -To bob@sandbox.test -Subject 'Saved subject' -Body 'x'
            $transcript = Join-Path $TestDrive 'whatif.txt'
            $null = Start-Transcript -Path $transcript
            try {
                Send-AosMessage -DraftId $draft.DraftId -To bob@sandbox.test -WhatIf
                Get-AosMessage -Mailbox Draft | Send-AosMessage -To bob@sandbox.test -WhatIf
            }
            finally { $null = Stop-Transcript }
            $lines = @((Get-Content -Raw -LiteralPath $transcript) -split '\r?\n' | Where-Object { $_ -like 'What if:*' })
            $lines.Count | Should -Be 2
            $lines | Should -Not -BeLike '*(no subject)*'
            # The draft named by id is read first (a read, not a send); a piped draft brings its subject.
            $lines[0] | Should -BeLike "*'Saved subject' to bob@sandbox.test*"
            $lines[1] | Should -BeLike "*'Saved subject'*"
            @(Get-SandboxSpool).Count | Should -Be 0
            @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 1 -Because 'only the Save-AosDraft above posted a message'

            $verbose = @(Send-AosMessage -DraftId $draft.DraftId -To bob@sandbox.test -Verbose 4>&1 | ForEach-Object { "$_" })
            $verbose | Where-Object { $_ -like "*saved content of draft $($draft.DraftId)*'Saved subject'*" } | Should -Not -BeNullOrEmpty
            (Get-OnlyMessage -User bob@sandbox.test).Subject | Should -BeExactly 'Saved subject'
        }
    }
}
