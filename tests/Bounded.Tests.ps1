# What a read or a send holds is bounded by design, whatever the server sends or the input is
# (docs/aos-protocol.md B23): header blocks over 1 MiB are refused before MimeKit parses them,
# bodies over 4 Mi characters are cut and say so, and attachments given as streams are read in
# place (or through a temporary file), never copied into memory.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function New-InboxMessage {
        # Writes a message straight into the demo Inbox: the header lines, then a body of $BodyLines
        # lines of 76 ASCII characters. Returns the id and the file.
        param([string] $Id, [string[]] $Header, [int] $BodyLines = 1)
        $folder = Join-Path (Get-TestSandbox).DataPath 'mail/demo@sandbox.test/Inbox'
        $null = New-Item -ItemType Directory -Force $folder
        $path = Join-Path $folder "$Id.eml"
        $writer = [IO.StreamWriter]::new($path, $false, [Text.Encoding]::ASCII)
        try {
            foreach ($line in $Header) { $writer.Write("$line`r`n") }
            $writer.Write("`r`n")
            $line = ('0123456789' * 8).Substring(0, 76) + "`r`n"
            for ($i = 0; $i -lt $BodyLines; $i++) { $writer.Write($line) }
        }
        finally { $writer.Dispose() }
        [pscustomobject]@{ Id = $Id; Path = $path }
    }

    function Get-AttachmentBytes([string] $User) {
        $mail = Get-OnlyMessage -User $User
        , @($mail.Attachments | ForEach-Object { , (Get-PartBytes $_) })
    }
}

Describe 'Bounded reads' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    It 'refuses a header line of 4 MB as a protocol error at once, and still saves the message as it is' {
        $stored = New-InboxMessage -Id '1700000000000.41' -Header 'From: alice@sandbox.test', 'To: demo@sandbox.test', "Subject: $('s' * 4MB)"
        $result = Invoke-Captured { Get-AosMessage -Id $stored.Id }
        Assert-OneError $result -ErrorId 'AosServerRejected' -Category ProtocolError -MessageLike "*'$($stored.Id)' has a header block larger than 1048576 bytes*Save-AosMessage*"
        $result.Output | Should -BeNullOrEmpty
        # MimeKit's parse of a 4 MB header takes many seconds; the refusal comes after reading 1 MiB.
        $result.Elapsed.TotalSeconds | Should -BeLessThan 10

        Save-AosMessage -Id $stored.Id -Path (Join-Path $TestDrive 'whole.eml')
        (Get-FileHash (Join-Path $TestDrive 'whole.eml')).Hash | Should -Be (Get-FileHash $stored.Path).Hash
    }

    It 'refuses -AsMimeMessage of such a message the same way' {
        $stored = New-InboxMessage -Id '1700000000000.42' -Header 'Subject: x', "X-Long: $('h' * 2MB)"
        Assert-OneError (Invoke-Captured { Get-AosMessage -Id $stored.Id -AsMimeMessage }) -ErrorId 'AosServerRejected' -Category ProtocolError
    }

    It 'cuts a text body over 4 Mi characters, says so, and -Raw still gives every byte' {
        # 60,000 lines of 78 bytes: about 4.7 MB of text.
        $stored = New-InboxMessage -Id '1700000000000.43' -Header 'Subject: big text', 'Content-Type: text/plain; charset=us-ascii' -BodyLines 60000
        $message = Get-AosMessage -Id $stored.Id
        $message.BodyTruncated | Should -BeTrue
        $message.TextBody.Length | Should -Be 4194304
        $message.TextBody.Substring(0, 78) | Should -BeExactly (('0123456789' * 8).Substring(0, 76) + "`r`n")
        $message.Subject | Should -BeExactly 'big text'

        $raw = Get-AosMessage -Id $stored.Id -Raw
        $raw.Length | Should -Be (Get-Item $stored.Path).Length
    }

    It 'reads a body under the limit whole, BodyTruncated false' {
        $stored = New-InboxMessage -Id '1700000000000.44' -Header 'Subject: small' -BodyLines 3
        $message = Get-AosMessage -Id $stored.Id
        $message.BodyTruncated | Should -BeFalse
        ($message.TextBody -split "`r?`n" | Where-Object { $_ }).Count | Should -Be 3
    }
}

Describe 'Attachments given as streams' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
        $script:Bytes = [byte[]]::new(100000)
        [Random]::new(21).NextBytes($Bytes)
    }

    It 'sends a seekable stream from where it stands and leaves it open, where it was' {
        $stream = [IO.MemoryStream]::new($Bytes)
        $stream.Position = 10
        Send-AosMessage -To alice@sandbox.test -Subject 'stream' -Body 'b' -Attachments @{ Name = 'data.bin'; Content = $stream }
        $attached = Get-AttachmentBytes alice@sandbox.test
        $attached.Count | Should -Be 1
        [Convert]::ToBase64String($attached[0]) | Should -BeExactly ([Convert]::ToBase64String($Bytes[10..($Bytes.Length - 1)]))
        $stream.CanRead | Should -BeTrue
        $stream.Position | Should -Be 10
    }

    It 'sends a stream that cannot seek (through a temporary file it deletes)' {
        $packed = [IO.MemoryStream]::new()
        $gzip = [IO.Compression.GZipStream]::new($packed, [IO.Compression.CompressionMode]::Compress, $true)
        $gzip.Write($Bytes, 0, $Bytes.Length); $gzip.Dispose()
        $packed.Position = 0
        $unseekable = [IO.Compression.GZipStream]::new($packed, [IO.Compression.CompressionMode]::Decompress)
        $unseekable.CanSeek | Should -BeFalse
        $spooledBefore = @(Get-ChildItem ([IO.Path]::GetTempPath()) -Filter 'AosMail-*.tmp').Count

        Send-AosMessage -To alice@sandbox.test -Subject 'gzip' -Body 'b' -Attachments @{ Name = 'data.bin'; Content = $unseekable }

        [Convert]::ToBase64String((Get-AttachmentBytes alice@sandbox.test)[0]) | Should -BeExactly ([Convert]::ToBase64String($Bytes))
        @(Get-ChildItem ([IO.Path]::GetTempPath()) -Filter 'AosMail-*.tmp').Count | Should -Be $spooledBefore
    }

    It 'sends all of one stream with every row when the rows share it (-ThrottleLimit 3)' {
        $stream = [IO.MemoryStream]::new($Bytes)
        $users = 'alice@sandbox.test', 'bob@sandbox.test', 'demo@sandbox.test'
        $users | ForEach-Object { [pscustomobject]@{ To = $_; Subject = "row $_"; Body = 'b' } } |
            Send-AosMessage -Attachments @{ Name = 'data.bin'; Content = $stream } -ThrottleLimit 3
        foreach ($user in $users) {
            [Convert]::ToBase64String((Get-AttachmentBytes $user)[0]) | Should -BeExactly ([Convert]::ToBase64String($Bytes)) -Because "the row to $user"
        }
    }

    It 'reads nothing of a stream with -WhatIf' {
        $stream = [IO.MemoryStream]::new($Bytes)
        $stream.Position = 5
        Send-AosMessage -To alice@sandbox.test -Subject 'what if' -Body 'b' -Attachments @{ Name = 'data.bin'; Content = $stream } -WhatIf
        $stream.Position | Should -Be 5
        @(Get-SandboxRequest -Command sdmailact) | Should -BeNullOrEmpty
    }

    It 'refuses a stream that cannot be read, naming it, with nothing sent' {
        $closed = [IO.MemoryStream]::new($Bytes)
        $closed.Dispose()
        $result = Invoke-Captured { Send-AosMessage -To alice@sandbox.test -Subject 'closed' -Body 'b' -Attachments @{ Name = 'gone.bin'; Content = $closed } }
        Assert-OneError $result -ErrorId 'AosInvalidAttachment' -Category InvalidArgument -MessageLike "*'gone.bin'*could not be read*"
        @($result.Requests | Where-Object Command -EQ 'sdmailact') | Should -BeNullOrEmpty
    }
}
