# Issue 6, proven by behaviour rather than timings: streamed bodies are byte-identical to the
# buffered build, one session reuses its connections, a session is safe to share across threads
# (and renews once when it expires under them), progress is reported for large uploads only.
# The timings themselves are in bench/ (./build.ps1 Bench), not here.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Import-MimeKit

    function New-TestFile([string] $Name, [int] $Size, [int] $Seed) {
        $path = Join-Path $TestDrive $Name
        $bytes = [byte[]]::new($Size)
        [Random]::new($Seed).NextBytes($bytes)
        [IO.File]::WriteAllBytes($path, $bytes)
        $path
    }

    # What the module built before streaming: MimeKit writes the whole entity to memory. Built here
    # independently with the same choices (B9) and the boundary of the stored message.
    function Get-BufferedBody([string] $Html, [string[]] $Attachments, [string] $Boundary, [switch] $Plain) {
        $parts = [System.Collections.Generic.List[MimeKit.MimeEntity]]::new()
        if ($Html) {
            $text = [MimeKit.TextPart]::new($(if ($Plain) { 'plain' } else { 'html' }))
            $text.SetText([Text.Encoding]::UTF8, ($Html -replace "`r?`n", "`r`n"))
            $parts.Add($text)
        }
        $streams = foreach ($path in $Attachments) {
            $stream = [IO.File]::OpenRead($path)
            $name = [IO.Path]::GetFileName($path)
            $part = [MimeKit.MimePart]::new([MimeKit.MimeTypes]::GetMimeType($name))
            $part.Content = [MimeKit.MimeContent]::new($stream)
            $part.ContentDisposition = [MimeKit.ContentDisposition]::new('attachment')
            $part.ContentTransferEncoding = [MimeKit.ContentEncoding]::Base64
            $part.FileName = $name
            $parts.Add($part)
            $stream
        }
        try {
            if ($parts.Count -eq 1 -and -not $Attachments) { $entity = $parts[0] }
            else {
                $entity = [MimeKit.Multipart]::new('mixed')
                $entity.Boundary = $Boundary
                foreach ($p in $parts) { $entity.Add($p) }
            }
            $entity.Prepare([MimeKit.EncodingConstraint]::SevenBit)
            $options = [MimeKit.FormatOptions]::Default.Clone()
            $options.NewLineFormat = [MimeKit.NewLineFormat]::Dos
            $options.MaxLineLength = 998
            $options.ParameterEncodingMethod = [MimeKit.ParameterEncodingMethod]::Rfc2231
            $options.International = $false
            $memory = [IO.MemoryStream]::new()
            $entity.WriteTo($options, $memory, $true)
            , $memory.ToArray()
        }
        finally { $streams | ForEach-Object Dispose }
    }

    # The stored .eml split at its first empty line: header text and body bytes.
    function Split-Eml([string] $Path) {
        $bytes = [IO.File]::ReadAllBytes($Path)
        $text = [Text.Encoding]::Latin1.GetString($bytes)
        $end = $text.IndexOf("`r`n`r`n")
        $body = [byte[]]::new($bytes.Length - $end - 4)
        [Array]::Copy($bytes, $end + 4, $body, 0, $body.Length)
        [pscustomobject]@{ Header = $text.Substring(0, $end); Body = $body }
    }

    function Get-Boundary([string] $Header) {
        if ($Header -match 'boundary="([^"]+)"') { $Matches[1] } else { $null }
    }
}

Describe 'Streaming sends (issue 6)' {
    BeforeEach { Reset-Sandbox }

    Context 'the stored message equals the buffered MimeKit build' {
        It 'for <Case>' -TestCases @(
            @{ Case = 'HTML'; Html = '<p>Hello</p>'; Files = @() }
            @{ Case = 'non-ASCII HTML'; Html = "<p>Grüße, 日本語 `u{1F600}</p>`n<p>zweite Zeile</p>"; Files = @() }
            @{ Case = 'text and several attachments'; Html = '<b>three files</b>'; Files = @(@('one.bin', 70000), @('two.txt', 1), @('three.png', 300001)) }
            @{ Case = 'non-ASCII file names'; Html = '<i>Anhänge</i>'; Files = @(@('Übersicht März.pdf', 4096), @('報告 2024.bin', 5000)) }
        ) {
            $session = New-TestSession
            $paths = @(foreach ($f in $Files) { New-TestFile $f[0] $f[1] $f[1] })
            $send = @{ Session = $session; To = 'alice@sandbox.test'; Subject = $Case; Body = $Html; BodyAsHtml = $true }
            if ($paths) { $send.Attachments = $paths }
            Send-AosMessage @send
            $stored = Split-Eml (Get-SandboxSpool).Path
            $expected = Get-BufferedBody -Html $Html -Attachments $paths -Boundary (Get-Boundary $stored.Header)
            $stored.Body.Length | Should -Be $expected.Length
            [Text.Encoding]::Latin1.GetString($stored.Body) | Should -BeExactly ([Text.Encoding]::Latin1.GetString($expected))
        }

        It 'for a plain non-ASCII body (sent as text, not MIME)' {
            $session = New-TestSession
            Send-AosMessage -Session $session -To alice@sandbox.test -Subject plain -Body "Grüße`nJörg`r`nEnde"
            $stored = Split-Eml (Get-SandboxSpool).Path
            [Text.Encoding]::UTF8.GetString($stored.Body) | Should -BeExactly "Grüße`r`nJörg`r`nEnde"
        }

        It 'for a 12 MB attachment, which the sandbox spools to disk' {
            $session = New-TestSession
            $path = New-TestFile 'large.bin' 12MB 42
            Send-AosMessage -Session $session -To alice@sandbox.test -Subject large -Body 'big' -Attachments $path
            $stored = Split-Eml (Get-SandboxSpool).Path
            $expected = Get-BufferedBody -Html 'big' -Plain -Attachments @($path) -Boundary (Get-Boundary $stored.Header)
            $stored.Body.Length | Should -Be $expected.Length
            [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($stored.Body)) |
                Should -BeExactly ([Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($expected)))
            $record = Get-SandboxRequest -Command sdmailact
            $body = $record.Fields | Where-Object Name -EQ 'body'
            $body.Length | Should -BeGreaterThan (12MB * 4 / 3)
            $body.Value.Length | Should -Be 65536
            # The spooled value and the message built from it are gone once the request is done.
            @(Get-ChildItem (Join-Path $Sandbox.DataPath 'incoming') -Force -ErrorAction Ignore).Count | Should -Be 0
        }
    }

    Context 'connection reuse' {
        It 'sends 50 messages over one session on at most 2 TCP connections' {
            $session = New-TestSession
            1..50 | ForEach-Object { [pscustomobject]@{ To = 'bob@sandbox.test'; Subject = "reuse $_"; Body = "row $_" } } |
                Send-AosMessage -Session $session
            $requests = @(Get-SandboxRequest)
            @($requests | Where-Object Command -EQ 'sdmailact').Count | Should -Be 50
            $requests.ConnectionId | Should -Not -Contain $null
            @($requests.ConnectionId | Sort-Object -Unique).Count | Should -BeLessOrEqual 2
            @(Get-SandboxSpool).Count | Should -Be 50
        }

        It 'uses a new connection for each new session (the check can fail)' {
            1..3 | ForEach-Object { Send-AosMessage -Session (New-TestSession) -To bob@sandbox.test -Subject "new $_" -Body x }
            @((Get-SandboxRequest -Command sdmailact).ConnectionId | Sort-Object -Unique).Count | Should -Be 3
        }
    }

    Context 'one session shared across threads' {
        It 'sends 200 messages from 4 ForEach-Object -Parallel workers: none lost, none doubled' {
            $session = New-TestSession
            $module = $env:AOS_TEST_MODULE
            1..200 | ForEach-Object -ThrottleLimit 4 -Parallel {
                Import-Module $using:module
                Send-AosMessage -Session $using:session -To bob@sandbox.test -Subject "parallel $_" -Body "message $_" -ErrorAction Stop
            }
            $spool = @(Get-SandboxSpool)
            $spool.Count | Should -Be 200
            $subjects = @($spool | ForEach-Object { (Read-MimeMessage $_.Path).Subject })
            @($subjects | Sort-Object -Unique).Count | Should -Be 200
            @(Get-SandboxRequest -Command login).Count | Should -Be 1
        }

        It 'renews once when the session expires mid-run under 4 workers' {
            $session = New-TestSession
            $module = $env:AOS_TEST_MODULE
            $job = 1..200 | ForEach-Object -ThrottleLimit 4 -AsJob -Parallel {
                Import-Module $using:module
                Send-AosMessage -Session $using:session -To bob@sandbox.test -Subject "expiring $_" -Body "message $_" -ErrorAction Stop
            }
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (@(Get-SandboxSpool).Count -lt 40 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            Add-SandboxFault -Command sdmailact -Action expire
            $null = $job | Wait-Job -Timeout 120
            $errors = @($job.ChildJobs | ForEach-Object { $_.Error })
            $job | Remove-Job -Force
            $errors | Should -BeNullOrEmpty
            (Get-SandboxRequest -Command sdmailact).Fault | Should -Contain 'expire'
            $spool = @(Get-SandboxSpool)
            $spool.Count | Should -Be 200
            @($spool | ForEach-Object { (Read-MimeMessage $_.Path).Subject } | Sort-Object -Unique).Count | Should -Be 200
            @(Get-SandboxRequest -Command login).Count | Should -Be 2
        }

        It 'sends from Start-ThreadJob workers with $using:' {
            $session = New-TestSession
            $module = $env:AOS_TEST_MODULE
            $jobs = 1..3 | ForEach-Object {
                Start-ThreadJob -ArgumentList $_ -ScriptBlock {
                    param($worker)
                    Import-Module $using:module
                    1..10 | ForEach-Object { Send-AosMessage -Session $using:session -To bob@sandbox.test -Subject "job $worker-$_" -Body x -ErrorAction Stop }
                }
            }
            $null = $jobs | Wait-Job -Timeout 60
            @($jobs | ForEach-Object { $_.Error }) | Should -BeNullOrEmpty
            $jobs | Remove-Job -Force
            @(Get-SandboxSpool).Count | Should -Be 30
            @(Get-SandboxRequest -Command login).Count | Should -Be 1
        }
    }

    Context 'progress' {
        BeforeAll {
            $script:Big = New-TestFile 'progress.bin' 6MB 6
            function Invoke-InRunspace([string] $Send) {
                $ps = [powershell]::Create()
                try {
                    $null = $ps.AddScript(@"
Import-Module '$($env:AOS_TEST_MODULE)'
`$ProgressPreference = 'Continue'
`$cred = [pscredential]::new(`$env:AOS_SANDBOX_USER, (ConvertTo-SecureString `$env:AOS_SANDBOX_PASSWORD -AsPlainText -Force))
`$session = New-AosSession -Server '$($Sandbox.BaseUri)' -Credential `$cred -AllowUnencryptedAuthentication
$Send
"@)
                    $null = $ps.Invoke()
                    if ($ps.Streams.Error.Count) { throw $ps.Streams.Error[0] }
                    @($ps.Streams.Progress)
                }
                finally { $ps.Dispose() }
            }
        }

        It 'reports bytes sent of total for a large upload, then completes' {
            $records = Invoke-InRunspace "Send-AosMessage -To bob@sandbox.test -Subject big -Body x -Attachments '$Big'"
            $upload = @($records | Where-Object Activity -Like 'Uploading*')
            $upload.Count | Should -BeGreaterThan 0
            $upload[-1].RecordType | Should -Be 'Completed'
            $upload[0].Activity | Should -BeExactly "Uploading 'big' with progress.bin (6.0 MB)"
            $upload[0].StatusDescription | Should -Match '^[\d.,]+ of [\d.,]+ MB sent$'
            $upload[0].PercentComplete | Should -BeIn (0..100)
        }

        It 'reports nothing with -ProgressAction SilentlyContinue' {
            $records = Invoke-InRunspace "Send-AosMessage -To bob@sandbox.test -Subject big -Body x -Attachments '$Big' -ProgressAction SilentlyContinue"
            @($records | Where-Object Activity -Like 'Uploading*').Count | Should -Be 0
        }

        It 'reports progress for a plain body over the threshold too (no attachment, nothing streamed)' {
            # Lines of 70 characters: a plain body with longer lines goes as a (streamed) MIME part (B8).
            $records = Invoke-InRunspace "Send-AosMessage -To bob@sandbox.test -Subject 'big plain' -Body (('x' * 70 + [char]10) * 75000)"
            $upload = @($records | Where-Object Activity -Like 'Uploading*')
            $upload.Count | Should -BeGreaterThan 0
            $upload[-1].RecordType | Should -Be 'Completed'
        }

        It 'reports nothing for a small message' {
            $records = Invoke-InRunspace "Send-AosMessage -To bob@sandbox.test -Subject small -Body x"
            @($records | Where-Object Activity -Like 'Uploading*').Count | Should -Be 0
        }

        It 'prints nothing in a non-interactive pwsh' {
            $script = @"
Import-Module '$($env:AOS_TEST_MODULE)'
`$cred = [pscredential]::new(`$env:AOS_SANDBOX_USER, (ConvertTo-SecureString `$env:AOS_SANDBOX_PASSWORD -AsPlainText -Force))
Send-AosMessage -Server '$($Sandbox.BaseUri)' -Credential `$cred -AllowUnencryptedAuthentication -To bob@sandbox.test -Subject quiet -Body x -Attachments '$Big'
'done'
"@
            $hostPath = [Environment]::ProcessPath
            $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($hostPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
            $output = & $hostPath @prefix -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1
            $LASTEXITCODE | Should -Be 0
            ($output -join "`n") | Should -BeExactly 'done'
        }
    }
}
