# How bytes move (docs/aos-protocol.md B22, B23) through the built module against the sandbox:
# timeouts that mean "no progress" (a slow upload that keeps moving is not cut; a stalled one is
# "nothing was sent"; a trickling answer is cut), answers too large to be AOS answers, and
# messages streamed to a file or parsed without being held in memory.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Data = (Get-TestSandbox).DataPath

    function New-StoredMessage {
        # Writes a message straight into the demo Inbox of the sandbox (faster than sending it) and
        # returns its id and SHA-256: a header block, then base64-looking lines of random bytes.
        param([long] $Size, [string] $Id, [string] $Subject = 'big')
        $folder = Join-Path $Data 'mail/demo@sandbox.test/Inbox'
        $null = New-Item -ItemType Directory -Force $folder
        $hash = [Security.Cryptography.IncrementalHash]::CreateHash('SHA256')
        $stream = [IO.File]::Create((Join-Path $folder "$Id.eml"))
        try {
            $head = [Text.Encoding]::ASCII.GetBytes("From: alice@sandbox.test`r`nTo: demo@sandbox.test`r`nSubject: $Subject`r`nContent-Type: text/plain`r`n`r`n")
            $stream.Write($head, 0, $head.Length); $hash.AppendData($head)
            $random = [byte[]]::new(786432)
            [Random]::new(11).NextBytes($random)
            $block = [Text.Encoding]::ASCII.GetBytes(([Convert]::ToBase64String($random) -replace '(.{76})', "`$1`r`n"))
            for ($written = $head.Length; $written -lt $Size; $written += $count) {
                $count = [int][math]::Min($block.Length, $Size - $written)
                $stream.Write($block, 0, $count); $hash.AppendData($block, 0, $count)
            }
        }
        finally { $stream.Dispose() }
        [pscustomobject]@{ Id = $Id; Hash = [Convert]::ToHexString($hash.GetHashAndReset()) }
    }

    function Get-FileSha256([string] $Path) { (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash }
}

Describe 'Transfers' {
    BeforeEach {
        Reset-Sandbox
    }

    Context 'timeouts mean no progress (B22)' {
        It 'sends an upload that takes longer than -TimeoutSec while its bytes keep moving' {
            # 36 MB read at 4 MB/s: an upload of 9 s against a 4 s timeout. The timeout also bounds the
            # wait for the answer once the client handed over the last byte: the server still reads
            # what the client's socket buffer holds (up to 4 MB here: a second at 4 MB/s), then stores
            # and judges the message. Short lines keep that plain and quick on a loaded machine.
            $null = Set-SandboxOption -ReadBytesPerSecond 4MB
            $session = New-TestSession -TimeoutSec 4
            $body = ('x' * 70 + "`r`n") * (36MB / 72)
            $result = Invoke-Captured { Send-AosMessage -Session $session -To bob@sandbox.test -Subject 'slow upload' -Body $body -PassThru }
            $result.Errors.Count | Should -Be 0 -Because ($result.Errors | Out-String)
            $result.Output[0].ServerAnswer | Should -BeExactly 'OK'
            $result.Elapsed.TotalSeconds | Should -BeGreaterThan 8 -Because 'the server read 36 MB at 4 MB/s, more than twice the timeout'
            (Get-Item -LiteralPath (Get-SandboxSpool).Path).Length | Should -BeGreaterThan 36MB
        }

        It 'reports a stalled upload as AosConnectionFailed: nothing was sent, nothing retried' {
            $session = New-TestSession -TimeoutSec 2
            Add-SandboxFault -Command sdmailact -Action stall -DelayMs 10000
            $result = Invoke-Captured { Send-AosMessage -Session $session -To bob@sandbox.test -Subject 'stalled' -Body ('x' * 32MB) }
            # The client gave up while the server was still stalled (10 s from the request's arrival;
            # the client's 2 s without progress start there too). Not timed from the call: measuring
            # 32 MB before the request goes out takes seconds on a loaded machine.
            (Get-SandboxRequest -Command sdmailact).Outcome | Should -BeExactly 'pending' -Because 'the client gives up after 2 s without progress, long before the stall ends'
            Assert-OneError $result -ErrorId AosConnectionFailed -Category OperationTimeout -MessageLike '*the upload stalled, no bytes moved for 2 s (* of * bytes sent). Nothing was sent.'
            # The server sees the cut body once it reads again: it acts on nothing.
            $deadline = [datetime]::UtcNow.AddSeconds(20)
            while ((Get-SandboxRequest -Command sdmailact).Outcome -eq 'pending' -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
            @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 1
            (Get-SandboxRequest -Command sdmailact).Outcome | Should -BeExactly 'dropped'
            @(Get-SandboxSpool).Count | Should -Be 0
        }

        It 'cuts an answer that trickles past -TimeoutSec: the outcome of the send is unknown' {
            $session = New-TestSession -TimeoutSec 2
            # "OK", one byte every 3 s: the whole answer would take 6 s.
            Add-SandboxFault -Command sdmailact -Action trickle -DelayMs 3000
            $result = Invoke-Captured { Send-AosMessage -Session $session -To bob@sandbox.test -Subject 'trickled' }
            Assert-OneError $result -ErrorId AosOutcomeUnknown -Category OperationTimeout -MessageLike '*the answer did not arrive in full within 2 s*'
            $result.Elapsed.TotalSeconds | Should -BeLessThan 5
            @(Get-SandboxSpool).Count | Should -Be 1 -Because 'the server acted before it answered'
        }
    }

    Context 'bounded answers (B23)' {
        It 'does not read a 200 MB "OK" answer to a send, and reports its outcome as unknown' {
            $session = New-TestSession
            Add-SandboxFault -Command sdmailact -Action text -Text 'OK' -Size 200MB
            $before = [GC]::GetTotalAllocatedBytes($true)
            $result = Invoke-Captured { Send-AosMessage -Session $session -To bob@sandbox.test -Subject 'padded' -PassThru }
            $allocated = [GC]::GetTotalAllocatedBytes($true) - $before
            $result.Output.Count | Should -Be 0
            Assert-OneError $result -ErrorId AosOutcomeUnknown -Category ProtocolError -MessageLike '*larger than 1048576 bytes (209715200 bytes)*may or may not have been sent*'
            $allocated | Should -BeLessThan 32MB
        }
    }

    Context 'streamed reads' {
        BeforeEach {
            $script:Session = New-TestSession
            $script:Folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid().ToString('n')))
        }

        It 'saves a 300 MB message byte for byte, without holding it in memory' {
            $message = New-StoredMessage -Size 300MB -Id '1700000000000.300'
            $target = Join-Path $Folder 'big.eml'
            try {
                $before = [GC]::GetTotalAllocatedBytes($true)
                $file = Save-AosMessage -Id $message.Id -Path $target -PassThru
                $allocated = [GC]::GetTotalAllocatedBytes($true) - $before
                $file.Length | Should -Be 300MB
                Get-FileSha256 $target | Should -BeExactly $message.Hash
                $allocated | Should -BeLessThan 32MB -Because 'the message goes from the connection to the file'
                @(Get-ChildItem -LiteralPath $Folder -Force).Name | Should -Be 'big.eml'
            }
            finally {
                Remove-Item -LiteralPath $target, (Join-Path $Data "mail/demo@sandbox.test/Inbox/$($message.Id).eml") -ErrorAction Ignore
            }
        }

        It 'leaves no file, partial or temporary, when the read fails midway (twice: the read is retried once)' {
            $message = New-StoredMessage -Size 5MB -Id '1700000000000.005'
            Add-SandboxFault -Command rdmail -Action dropMidAnswer -Times 2
            $result = Invoke-Captured { Save-AosMessage -Id $message.Id -Destination $Folder }
            Assert-OneError $result -ErrorId AosConnectionFailed -Category ConnectionError
            @(Get-SandboxRequest -Command rdmail).Count | Should -Be 2
            @(Get-ChildItem -LiteralPath $Folder -Force).Count | Should -Be 0
        }

        It 'keeps an existing file when the read fails, even with -Force' {
            $message = New-StoredMessage -Size 2MB -Id '1700000000000.002'
            $target = Join-Path $Folder 'kept.eml'
            Set-Content -LiteralPath $target -Value 'the old content'
            Add-SandboxFault -Command rdmail -Action dropMidAnswer -Times 2
            $result = Invoke-Captured { Save-AosMessage -Id $message.Id -Path $target -Force }
            Assert-OneError $result -ErrorId AosConnectionFailed -Category ConnectionError
            Get-Content -LiteralPath $target | Should -BeExactly 'the old content'
            @(Get-ChildItem -LiteralPath $Folder -Force).Name | Should -Be 'kept.eml'
            Save-AosMessage -Id $message.Id -Path $target -Force
            Get-FileSha256 $target | Should -BeExactly $message.Hash
        }

        It 'writes nothing when the server answers with a web page' {
            $message = New-StoredMessage -Size 1KB -Id '1700000000000.001'
            Add-SandboxFault -Command rdmail -Action text -Text "<!DOCTYPE html>`r`n<html><body><p>Your session has ended. Please log in.</p></body></html>"
            $result = Invoke-Captured { Save-AosMessage -Id $message.Id -Destination $Folder }
            Assert-OneError $result -ErrorId AosServerRejected -Category ProtocolError -MessageLike '*web page, not a message*Your session has ended*'
            @(Get-ChildItem -LiteralPath $Folder -Force).Count | Should -Be 0
        }

        It 'parses a large message for Get-AosMessage -Id through a temporary file it deletes' {
            $message = New-StoredMessage -Size 12MB -Id '1700000000000.012' -Subject 'large and parsed'
            $temp = [IO.Path]::GetTempPath()
            $before = @(Get-ChildItem -LiteralPath $temp -Filter 'AosMail-*.eml.tmp' -Force).Count
            $read = Get-AosMessage -Id $message.Id
            $read.Subject | Should -BeExactly 'large and parsed'
            $read.Size | Should -Be 12MB
            # A body over 4 Mi characters is cut, and says so (docs/aos-protocol.md B23).
            $read.TextBody.Length | Should -Be 4194304
            $read.BodyTruncated | Should -BeTrue
            @(Get-ChildItem -LiteralPath $temp -Filter 'AosMail-*.eml.tmp' -Force).Count | Should -Be $before
        }
    }
}
