# The "encode" benchmark section: large attachments sent to a server that reads the form and throws
# it away (bench/DiscardServer.cs; the login and session checks are passed on to a sandbox), so that
# the figures are the client's. The module sends from fresh pwsh processes (bench/LargeSendClient.ps1);
# the baseline is curl streaming a form of the same Content-Length from a file (`-T`, read as it is
# sent; `--data-binary @file` reads the whole file first and is slower than the module).
#   first send   the first 100 MB send in a new process vs the median of the next sends in the same
#                process (warm), one ratio per process, 3 processes          target <= 1.5x
#   1 GiB        after a warm-up send, one 1 GiB send per process vs curl, paired rounds in
#                alternating order: wall time (<= 2x), client CPU (<= 3x), the sending process's
#                peak working-set growth (<= 64 MB), and when the body's first byte reached the
#                server, as a share of the send's wall time (<= 10 %)
#   100 MB       the warm 100 MB sends vs curl: wall time and CPU (no target: the large section's
#                100 MB figure has one, against the sandbox)
# Bench.ps1 runs it and prints its results with the others (Bench.ps1 -Section encode runs it alone);
# on its own (no targets checked):
#   dotnet pwsh bench/LargeSend.ps1 -ModulePath out/AosMail/AosMail.psd1 -SandboxPath src/AosMail.Sandbox/bin/Release/net10.0/AosMail.Sandbox.dll
# It writes one object per figure: Name, Values, Unit, Comparison, Target, Detail.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $SandboxPath,
    [switch] $Smoke
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
Import-Module (Join-Path $root 'build/AosSandbox.psm1')
$mediumBytes = if ($Smoke) { 5MB } else { 100MB }
$largeBytes = if ($Smoke) { 20MB } else { 1GB }
$firstProcesses = if ($Smoke) { 1 } else { 3 }
$warmSends = if ($Smoke) { 1 } else { 3 }
$largeRounds = if ($Smoke) { 1 } else { 3 }
# The sandbox (logins only: the sends go to the discard server) on tmpfs where there is room.
$folder = [IO.Path]::GetTempPath()
if ($IsLinux -and (Test-Path -LiteralPath /dev/shm -PathType Container) -and [IO.DriveInfo]::new('/dev/shm').AvailableFreeSpace -ge 1GB) { $folder = '/dev/shm' }
$work = Join-Path $folder ('aos-encode-' + [guid]::NewGuid().ToString('n'))
$null = New-Item -ItemType Directory -Force $work
# The files sent (1 GiB, and curl's 1.5 GB form) on the disk the bench runs from, where users keep
# theirs: each is flushed to disk once written, so both clients read it from the page cache and no
# write-back runs under a measured send. (Where tmpfs reads slower than a disk's page cache, as on
# the bench's machine, files there would also move the first byte: the counting pass is one read.)
$files = Join-Path $root ('out/bench-encode/' + [guid]::NewGuid().ToString('n'))
$null = New-Item -ItemType Directory -Force $files
$sandbox = Start-AosSandbox -SandboxPath (Resolve-Path -LiteralPath $SandboxPath).Path -DataPath (Join-Path $work 'sandbox') -ArgumentList '--no-demo-mail'
$server = $null
function Get-Median($values) { $sorted = @($values | Sort-Object); if ($sorted.Count % 2) { $sorted[($sorted.Count - 1) / 2] } else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 } }
try {
    if (-not ('AosDiscardServer' -as [type])) {
        Add-Type -Path (Join-Path $PSScriptRoot 'DiscardServer.cs') -ReferencedAssemblies System.Net.Http, System.Net.Primitives, System.Net.Sockets, System.Collections, System.Collections.Concurrent, System.Linq, System.Runtime, System.Threading, System.Private.CoreLib
    }
    if (-not ('AosBenchHelper' -as [type])) {
        Add-Type -Path (Join-Path $PSScriptRoot 'BenchHelper.cs') -ReferencedAssemblies System.Net.Http, System.Net.Primitives, System.Net.Security, System.Security.Cryptography, System.Collections, System.Linq, System.Runtime, System.Threading
    }
    $server = [AosDiscardServer]::new($sandbox.BaseUri.AbsoluteUri)
    $tick = [double][AosDiscardServer]::Frequency
    $hostPath = [Environment]::ProcessPath
    $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($hostPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    $curl = (Get-Command curl -CommandType Application | Select-Object -First 1).Source
    $time = (Get-Command time -CommandType Application | Select-Object -First 1).Source

    function New-RandomFile([string] $Path, [long] $Bytes) {
        $stream = [IO.File]::Create($Path)
        try {
            $chunk = [byte[]]::new(1MB); $random = [Random]::new(7)
            for ($written = 0; $written -lt $Bytes; $written += $chunk.Length) { $random.NextBytes($chunk); $stream.Write($chunk, 0, [int][math]::Min($chunk.Length, $Bytes - $written)) }
        }
        finally { $stream.Flush($true); $stream.Dispose() }
        $Path
    }
    $warm = New-RandomFile (Join-Path $files 'warm.bin') 5MB
    $medium = New-RandomFile (Join-Path $files 'medium.bin') $mediumBytes
    $large = New-RandomFile (Join-Path $files 'large.bin') $largeBytes

    # One fresh pwsh sending the attachments in order; the discard server's record of each send beside the client's.
    function Invoke-Client([string[]] $Attachments) {
        $server.Sends.Clear()
        $lines = & $hostPath @prefix -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'LargeSendClient.ps1') -ModulePath $ModulePath `
            -Server $server.BaseUri -User $sandbox.DemoUser -Password $sandbox.DemoPassword -Attachments ($Attachments -join '|')
        if ($LASTEXITCODE) { throw "The sending pwsh failed ($LASTEXITCODE): $lines" }
        $sends = @($lines | ForEach-Object { $_ | ConvertFrom-Json })
        $received = @($server.Sends.ToArray())
        if ($sends.Count -ne $Attachments.Count -or $received.Count -ne $Attachments.Count) { throw "Sent $($sends.Count), received $($received.Count), expected $($Attachments.Count)." }
        for ($i = 0; $i -lt $sends.Count; $i++) {
            $send = $sends[$i]; $got = $received[$i]
            [pscustomobject]@{
                Wall = ($send.End - $send.Start) / $tick; Cpu = $send.Cpu; Growth = $send.Growth / 1MB; Length = $got.Length
                FirstByte = ($got.FirstByteAt - $send.Start) / $tick; Share = ($got.FirstByteAt - $send.Start) / ($send.End - $send.Start)
            }
        }
    }

    # curl posting a form of the same length, streamed from its file; its own CPU only (not the server's).
    $timeFile = Join-Path $work 'curl-time.txt'
    function Invoke-Curl([string] $Form) {
        $sid = [AosBenchHelper]::Login([AosBenchHelper]::NewClient($false), $server.BaseUri, 'demo', 'sandbox.test', $sandbox.DemoPassword)
        $server.Sends.Clear()
        $answer = & $time -f '%e %U %S' -o $timeFile $curl -sS -X POST -T $Form -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' -H 'Expect:' "$($server.BaseUri)/$sid.sdmailact.mail.mms"
        if ("$answer".Trim() -ne 'OK') { throw "curl's send was refused: $answer" }
        $wall, $user, $system = (Get-Content -LiteralPath $timeFile | Select-Object -Last 1) -split ' ' | ForEach-Object { [double]$_ }
        [pscustomobject]@{ Wall = $wall; Cpu = $user + $system; Length = @($server.Sends.ToArray())[0].Length }
    }

    function Measure-Read([string] $Path) {
        & $time -f '%e' -o $timeFile sh -c 'cat "$1" > /dev/null' cat $Path
        if ($LASTEXITCODE) { throw "cat could not read $Path." }
        [double](Get-Content -LiteralPath $timeFile | Select-Object -Last 1)
    }

    # ---- the first send in a new process vs the same send warm ----
    $firstRatios = @(); $firstWalls = @(); $warmWalls = @(); $mediumRuns = @()
    foreach ($process in 1..$firstProcesses) {
        $runs = @(Invoke-Client (@($medium) * (1 + $warmSends)))
        $warmWall = Get-Median ($runs | Select-Object -Skip 1 | ForEach-Object Wall)
        $firstRatios += $runs[0].Wall / $warmWall; $firstWalls += $runs[0].Wall; $warmWalls += $warmWall
        $mediumRuns += $runs | Select-Object -Skip 1
    }
    [pscustomobject]@{ Name = 'encode: first 100 MB send vs warm'; Values = [double[]]$firstRatios; Unit = 'x'; Comparison = '<='; Target = 1.5
        Detail = "$firstProcesses fresh processes; first {0:N2} s, warm {1:N2} s (medians)" -f (Get-Median $firstWalls), (Get-Median $warmWalls) }

    # ---- 1 GiB vs a streaming curl, and the 100 MB companions ----
    $mediumForm = Join-Path $files 'medium-form.txt'
    [AosBenchHelper]::WriteLargeForm($mediumForm, $mediumRuns[0].Length, 'bob@sandbox.test', 'large')
    $mediumCurl = @(1..$warmSends | ForEach-Object { Invoke-Curl $mediumForm })
    Remove-Item -LiteralPath $mediumForm
    $largeForm = Join-Path $files 'large-form.txt'
    $module = @(); $baseline = @(); $reads = @()
    foreach ($round in 1..$largeRounds) {
        # The file read alone by a fresh cat: what one read of it takes; the counting pass before the first byte reads it once (in two halves at once).
        $sendModule = { $script:module += @(Invoke-Client @($warm, $large))[1]; $script:reads += Measure-Read $large }
        $sendCurl = {
            if (-not (Test-Path -LiteralPath $largeForm)) { [AosBenchHelper]::WriteLargeForm($largeForm, $module[0].Length, 'bob@sandbox.test', 'large') }
            $script:baseline += Invoke-Curl $largeForm
        }
        if ($round % 2 -or -not $module) { & $sendModule; & $sendCurl } else { & $sendCurl; & $sendModule }
    }
    foreach ($run in $baseline) { if ($run.Length -ne $module[0].Length) { throw "curl sent $($run.Length) bytes, the module $($module[0].Length)." } }
    $pairs = 0..($largeRounds - 1)
    $size = '{0:N0} MB form' -f ($module[0].Length / 1MB)
    [pscustomobject]@{ Name = 'encode: 1 GiB wall vs curl'; Values = [double[]]@($pairs | ForEach-Object { $module[$_].Wall / $baseline[$_].Wall }); Unit = 'x'; Comparison = '<='; Target = 2
        Detail = "$largeRounds paired rounds, $size; module {0:N2} s, curl -T {1:N2} s (medians)" -f (Get-Median $module.Wall), (Get-Median $baseline.Wall) }
    [pscustomobject]@{ Name = 'encode: 1 GiB client CPU vs curl'; Values = [double[]]@($pairs | ForEach-Object { $module[$_].Cpu / $baseline[$_].Cpu }); Unit = 'x'; Comparison = '<='; Target = 3
        Detail = "module {0:N2} s, curl {1:N2} s of CPU (medians)" -f (Get-Median $module.Cpu), (Get-Median $baseline.Cpu) }
    [pscustomobject]@{ Name = 'encode: 1 GiB peak growth'; Values = [double[]]@($module.Growth); Unit = 'MB'; Comparison = '<='; Target = 64
        Detail = 'of the sending pwsh (VmHWM after clear_refs), median of the rounds' }
    [pscustomobject]@{ Name = 'encode: 1 GiB first byte'; Values = [double[]]@($module | ForEach-Object { 100 * $_.Share }); Unit = '%'; Comparison = '<='; Target = 10
        Detail = "of the send's wall time until the body's first byte reached the server; {0:N2} s; reading the file alone (cat) {1:N2} s (medians)" -f (Get-Median $module.FirstByte), (Get-Median $reads) }
    [pscustomobject]@{ Name = 'encode: 100 MB wall vs curl'; Values = [double[]]@((Get-Median $mediumRuns.Wall) / (Get-Median $mediumCurl.Wall)); Unit = 'x'; Comparison = ''; Target = 0
        Detail = "warm sends; module {0:N2} s, curl -T {1:N2} s; CPU {2:N2} s vs {3:N2} s; first byte at {4:N1} %" -f (Get-Median $mediumRuns.Wall), (Get-Median $mediumCurl.Wall), (Get-Median $mediumRuns.Cpu), (Get-Median $mediumCurl.Cpu), (100 * (Get-Median $mediumRuns.Share)) }
}
finally {
    if ($server) { $server.Dispose() }
    $sandbox | Stop-AosSandbox
    Remove-Item -Recurse -Force $work, $files -ErrorAction Ignore
}
