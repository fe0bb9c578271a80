# What makes a message, as the journal's content key sees it (AosMessageParts): every part that changes
# what is sent makes another message, on a rerun with the same -JournalPath; what does not (where a copy
# is kept, the name of the file the body came from) leaves it the same message, skipped as sent.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function Send-Journaled([hashtable] $Parameters) {
        # One command with the test's journal; its results (-PassThru) and errors.
        Invoke-Captured { Send-AosMessage @Parameters -Session $Session -JournalPath $Journal -PassThru -ErrorAction Continue }
    }
}

Describe 'What makes a message: the journal key' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
        $script:Journal = Join-Path $TestDrive ([guid]::NewGuid().ToString('n') + '.jsonl')
    }

    It 'an inline image under another file name is another message: sent, not skipped as the earlier one' {
        $bytes = [byte[]](1..64)
        $first = Join-Path $TestDrive 'logo.png'
        $second = Join-Path $TestDrive 'banner.png'
        [IO.File]::WriteAllBytes($first, $bytes)
        [IO.File]::WriteAllBytes($second, $bytes)
        $message = @{ To = 'alice@sandbox.test'; Subject = 'News'; BodyAsHtml = $true; Body = '<p><img src="cid:logo"></p>' }

        $one = Send-Journaled ($message + @{ InlineAttachments = @{ logo = $first } })
        $two = Send-Journaled ($message + @{ InlineAttachments = @{ logo = $second } })
        $one.Errors.Count + $two.Errors.Count | Should -Be 0 -Because (($one.Errors + $two.Errors) | Out-String)
        $two.Output.Skipped | Should -BeFalse
        @(Get-SandboxSpool).Count | Should -Be 2
    }

    It '-BodyPath (<Kind>): a body file changed between runs is sent again; the same text from another file is the same message' -ForEach @(
        @{ Kind = 'plain'; Html = $false; Text = 'Hello from a file' }
        @{ Kind = 'HTML'; Html = $true; Text = '<p>Hello from a file</p>' }
    ) {
        $path = Join-Path $TestDrive "body-$Kind.txt"
        $copy = Join-Path $TestDrive "copy-$Kind.txt"
        Set-Content -LiteralPath $path -Value $Text -NoNewline
        $message = @{ To = 'alice@sandbox.test'; Subject = 'From a file'; BodyAsHtml = $Html }

        $null = Send-Journaled ($message + @{ BodyPath = $path })
        Set-Content -LiteralPath $path -Value "$Text, changed" -NoNewline
        $changed = Send-Journaled ($message + @{ BodyPath = $path })
        $changed.Output.Skipped | Should -BeFalse -Because 'the file holds another body now'
        @(Get-SandboxSpool).Count | Should -Be 2

        # The path is never sent: another file with the same bytes makes the message already sent.
        Set-Content -LiteralPath $copy -Value "$Text, changed" -NoNewline
        $same = Send-Journaled ($message + @{ BodyPath = $copy })
        $same.Errors.Count | Should -Be 0 -Because ($same.Errors | Out-String)
        $same.Output.Skipped | Should -BeTrue -Because 'the copy holds the body already sent'
        @(Get-SandboxSpool).Count | Should -Be 2
    }

    It 'a row rerun with -KeepCopy is the same message (keepcopy says where a copy is kept, not what is sent)' {
        $message = @{ To = 'alice@sandbox.test'; Subject = 'Copy'; Body = 'Hello' }
        $null = Send-Journaled $message
        $again = Send-Journaled ($message + @{ KeepCopy = $true })
        $again.Output.Skipped | Should -BeTrue
        @(Get-SandboxSpool).Count | Should -Be 1
    }
}
