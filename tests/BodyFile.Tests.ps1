# -BodyPath files are read as they are sent (AosBodyFile), never held as one string: through the
# built module against the sandbox, a body file of some MB arrives as the file's text, and a body
# file that changes or goes away after the message was prepared cuts the request before its body
# is complete (docs/aos-protocol.md B22): nothing is sent, with a documented error id.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Http = $Sandbox.BaseUri

    # A body file of about $Size bytes made of $Line (LF line ends); returns the text as sent (CRLF), as UTF-8 bytes.
    function New-BodyFile([string] $Path, [string] $Line, [int] $Size) {
        $text = $Line * [math]::Ceiling($Size / [Text.Encoding]::UTF8.GetByteCount($Line))
        [IO.File]::WriteAllText($Path, $text, [Text.UTF8Encoding]::new($false))
        , [Text.Encoding]::UTF8.GetBytes($text.Replace("`n", "`r`n"))
    }

    function Get-Sha256([byte[]] $Bytes) { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)) }

    # The file changes after the message was prepared and before it is uploaded.
    function Send-WhileChanging([string] $Path, [scriptblock] $Change) {
        Invoke-WhileFileChanges -Path $Path -Change $Change -Send {
            Send-AosMessage -Server $Http -Credential (New-TestCredential) -AllowUnencryptedAuthentication -To alice@sandbox.test -Subject 'changing body' -BodyPath $Path
        }
    }
}

Describe 'BodyFile' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    It 'sends a <Kind> body file of 4 MB that the server stores as the file''s text (<Shown>)' -ForEach @(
        @{ Kind = 'long-line ASCII'; Line = ('All work and no play makes Jack a dull boy. ' * 12) + "`n"; Transfer = 'quoted-printable'; Shown = 'quoted-printable' }
        @{ Kind = 'UTF-8'; Line = "Grüße aus Köln: 5 € für die Kaffeekasse.`n"; Transfer = '8bit'; Shown = 'UTF-8, 8bit' }
        @{ Kind = 'short-line ASCII'; Line = "A short ASCII line.`n"; Transfer = $null; Shown = 'as it is' }
    ) {
        $path = Join-Path $TestDrive 'big body.txt'
        $expected = New-BodyFile -Path $path -Line $Line -Size 4MB
        Send-AosMessage -To alice@sandbox.test -Subject 'big body' -BodyPath $path
        $mheader = ((Get-OnlySend).Fields | Where-Object Name -EQ 'mheader').Value
        if ($Transfer) { $mheader | Should -BeLike "*Content-Transfer-Encoding: $Transfer" } else { $mheader | Should -BeNullOrEmpty }
        $message = Get-OnlyMessage -User alice@sandbox.test
        $stored = Get-PartBytes $message.Body
        $stored.Length | Should -Be $expected.Length
        Get-Sha256 $stored | Should -BeExactly (Get-Sha256 $expected)
    }

    It 'reports a body file changed at the same length since the message was prepared as AosAttachmentChanged: cut before complete, nothing sent' {
        $path = Join-Path $TestDrive 'changing.txt'
        $null = New-BodyFile -Path $path -Line "line of the body`n" -Size 256KB
        $length = (Get-Item -LiteralPath $path).Length
        $result = Send-WhileChanging $path {
            param($path)
            $stream = [IO.File]::Open($path, 'Open', 'ReadWrite', 'ReadWrite')
            try { $stream.Position = 100KB; $stream.WriteByte([byte][char]'X') } finally { $stream.Dispose() }
        }
        (Get-Item -LiteralPath $path).Length | Should -Be $length
        Assert-OneError $result -ErrorId AosAttachmentChanged -Category InvalidData -MessageLike "*body file '$path' changed while it was being sent*cut before it was complete, so nothing was sent*"
        foreach ($send in @($result.Requests | Where-Object Command -EQ 'sdmailact')) { $send.Status | Should -Be 0 -Because 'the sandbox saw the request end before its body did' }
        @(Get-SandboxSpool).Count | Should -Be 0
        @(Get-SandboxMessage -User alice@sandbox.test -Mailbox Inbox).Count | Should -Be 0
    }

    It 'reports a body file removed since the message was prepared as AosAttachmentUnreadable, with nothing sent' {
        $path = Join-Path $TestDrive 'removed.txt'
        $null = New-BodyFile -Path $path -Line "line of the body`n" -Size 64KB
        $result = Send-WhileChanging $path { param($path) Remove-Item -LiteralPath $path }
        Test-Path -LiteralPath $path | Should -BeFalse
        Assert-OneError $result -ErrorId AosAttachmentUnreadable -Category ReadError -MessageLike "*body file '$path' could not be read*nothing was sent*"
        @(Get-SandboxSpool).Count | Should -Be 0
    }

    It 'names the body file''s size in -Verbose, never its text' {
        $path = Join-Path $TestDrive 'private.txt'
        [IO.File]::WriteAllText($path, "Private and confidential`n")
        $lines = @(Send-AosMessage -To alice@sandbox.test -Subject 'verbose body file' -BodyPath $path -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        ($lines -join "`n") | Should -BeLike '*body `[26 bytes, streamed from the body file`]*'
        ($lines -join "`n") | Should -Not -BeLike '*confidential*'
    }

    It 'checks the cid: references of an HTML body file before any request' {
        $path = Join-Path $TestDrive 'page.html'
        [IO.File]::WriteAllText($path, "<html><body>`n" + ('<p>filler</p>' * 1000) + "`n<img src=""cid:missing""></body></html>")
        $result = Invoke-Captured { Send-AosMessage -To alice@sandbox.test -Subject 'html file' -BodyPath $path -BodyAsHtml -InlineAttachments @{ logo = @{ Name = 'logo.png'; Content = [byte[]](1, 2, 3) } } }
        Assert-OneError $result -ErrorId AosMissingInlineAttachment -Category ObjectNotFound -MessageLike "*cid:missing*"
        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
    }
}
