# Attachments that fail to read, through the built module against the sandbox (docs/aos-protocol.md
# B22): a content stream that throws is bad input refused before the wire, and a file that cannot
# be read when the message goes out cuts the request before its body is complete: nothing is sent,
# with a documented error id, never a raw .NET one.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    class ThrowingStream : System.IO.MemoryStream {
        [int] Read([byte[]] $buffer, [int] $offset, [int] $count) { throw [System.InvalidOperationException]::new('the stream is closed for reading') }
    }
}

Describe 'AttachmentFaults' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    It 'refuses a content stream that throws as AosInvalidAttachment, with nothing sent' {
        $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'stream' -Attachments @{ Name = 'x.bin'; Content = [ThrowingStream]::new() } }
        Assert-OneError $result -ErrorId AosInvalidAttachment -Category InvalidArgument -MessageLike "*content stream of attachment*could not be read*"
        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
    }

    It 'reports an attachment that became unreadable (a symbolic link loop) as AosAttachmentUnreadable, with nothing sent' -Skip:$IsWindows {
        $loop = Join-Path $TestDrive 'loop'
        $null = New-Item -ItemType Directory $loop
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $loop 'a.txt') -Target (Join-Path $loop 'b.txt')
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $loop 'b.txt') -Target (Join-Path $loop 'a.txt')
        $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'loop' -Attachments (Join-Path $loop 'a.txt') }
        Assert-OneError $result -ErrorId AosAttachmentUnreadable -Category ReadError -MessageLike "*'a.txt' could not be read*nothing was sent*"
        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
        @(Get-SandboxSpool).Count | Should -Be 0
    }
}
