# The "uneven" benchmark section: a server 50 ms away where 5 % of requests take 250 ms longer
# (a sandbox of its own with --latency-ms 50 --slow-percent 5 --slow-ms 250).
# Import-Csv | Send-AosMessage -ThrottleLimit N vs a raw HttpClient keeping N requests in flight
# (the next as soon as any ends), N = 16 and 64, in paired rounds; the slow requests fall on the
# same request numbers in both (the sandbox counts from its reset). Targets: >= 0.85x at 16,
# >= 0.8x at 64. A window that waited for its oldest row when full would stall behind every slow
# request (0.4x and 0.24x before the row pipeline).
# Bench.ps1 runs it and prints its results with the others; on its own (no targets checked):
#   dotnet pwsh bench/Uneven.ps1 -ModulePath out/AosMail/AosMail.psd1 -SandboxPath src/AosMail.Sandbox/bin/Release/net10.0/AosMail.Sandbox.dll
# It writes one object per figure: Name, Median, Values (the paired ratios), Unit, Comparison, Target, Detail.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $SandboxPath,
    [switch] $Smoke
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot
Import-Module (Join-Path $root 'build/AosSandbox.psm1')
$messages = if ($Smoke) { 40 } else { 1000 }
$rounds = if ($Smoke) { 1 } else { 5 }
$latencyMs = 50; $slowPercent = 5; $slowMs = 250
$work = Join-Path ([IO.Path]::GetTempPath()) ('aos-uneven-' + [guid]::NewGuid().ToString('n'))
$null = New-Item -ItemType Directory -Force $work
$sandbox = Start-AosSandbox -SandboxPath (Resolve-Path -LiteralPath $SandboxPath).Path -DataPath (Join-Path $work 'sandbox') `
    -ArgumentList '--latency-ms', $latencyMs, '--slow-percent', $slowPercent, '--slow-ms', $slowMs
$saved = @{ Uri = $env:AOS_SANDBOX_URI; Data = $env:AOS_SANDBOX_DATA }
try {
    # The test helpers (Reset-Sandbox, Get-SandboxRequest) talk to this sandbox while the section runs.
    $env:AOS_SANDBOX_URI = $base = $sandbox.BaseUri.AbsoluteUri.TrimEnd('/')
    $env:AOS_SANDBOX_DATA = $sandbox.DataPath
    Import-Module (Join-Path $root 'tests/TestHelpers.psm1')
    Import-Module (Resolve-Path -LiteralPath $ModulePath).Path
    if (-not ('AosBenchHelper' -as [type])) {
        Add-Type -Path (Join-Path $PSScriptRoot 'BenchHelper.cs') -ReferencedAssemblies System.Net.Http, System.Net.Primitives, System.Net.Security, System.Security.Cryptography, System.Collections, System.Linq, System.Runtime, System.Threading
    }
    $credential = [pscredential]::new($sandbox.DemoUser, (ConvertTo-SecureString $sandbox.DemoPassword -AsPlainText -Force))
    $csv = Join-Path $work 'rows.csv'
    $rows = 1..$messages | ForEach-Object { [pscustomobject]@{ To = 'bob@sandbox.test'; Subject = 'uneven {0:D5}' -f $_; Body = "Row $_ of the uneven benchmark.`nSecond line." } }
    $rows | Export-Csv -LiteralPath $csv -NoTypeInformation
    $forms = [System.Collections.Generic.List[byte[]]]::new()
    foreach ($row in $rows) { $forms.Add([AosBenchHelper]::PlainSendForm($row.To, $row.Subject, $row.Body)) }

    function Assert-AllSent([string] $What) {
        $sent = @(Get-SandboxRequest -Command sdmailact | Where-Object Outcome -EQ 'OK').Count
        if ($sent -ne $messages) { throw "$What sent $sent, expected $messages." }
    }

    # Each run starts from a reset: a fresh count for the slow share, and the login as request 1.
    $run = @{
        module = {
            param([int] $InFlight)
            Reset-Sandbox
            $session = New-AosSession -Server $base -Credential $credential -AllowUnencryptedAuthentication
            $seconds = (Measure-Command { Import-Csv -LiteralPath $csv | Send-AosMessage -Session $session -ThrottleLimit $InFlight }).TotalSeconds
            $session | Remove-AosSession
            Assert-AllSent "Send-AosMessage -ThrottleLimit $InFlight"
            $seconds
        }
        raw    = {
            param([int] $InFlight)
            Reset-Sandbox
            $client = [AosBenchHelper]::NewClient($false)
            $sid = [AosBenchHelper]::Login($client, $base, 'demo', 'sandbox.test', $sandbox.DemoPassword)
            $seconds = [AosBenchHelper]::PostAllConcurrently($client, "$base/$sid.sdmailact.mail.mms", $forms, $InFlight)
            $client.Dispose()
            Assert-AllSent "the raw loop with $InFlight in flight"
            $seconds
        }
    }

    foreach ($inFlight in 16, 64) {
        # Warm-up: both paths once at this width.
        $null = & $run.module $inFlight; $null = & $run.raw $inFlight
        $module = [System.Collections.Generic.List[double]]::new(); $raw = [System.Collections.Generic.List[double]]::new()
        foreach ($round in 1..$rounds) {
            # Alternate which path goes first, so that drift on the shared machine cancels out.
            if ($round % 2) { $module.Add((& $run.module $inFlight)); $raw.Add((& $run.raw $inFlight)) }
            else { $raw.Add((& $run.raw $inFlight)); $module.Add((& $run.module $inFlight)) }
        }
        $moduleRate = $messages / (($module | Measure-Object -Average).Average)
        $rawRate = $messages / (($raw | Measure-Object -Average).Average)
        $ceiling = $inFlight / (($latencyMs * (100 - $slowPercent) + ($latencyMs + $slowMs) * $slowPercent) / 100 / 1000)
        $ratios = [double[]]@(0..($rounds - 1) | ForEach-Object { $raw[$_] / $module[$_] })
        [pscustomobject]@{
            Name       = "uneven: ThrottleLimit $inFlight vs raw $inFlight"
            # Run alone, the median and the rounds are shown here (Bench.ps1 prints its own line).
            Median     = @($ratios | Sort-Object)[[math]::Floor($rounds / 2)]
            Values     = $ratios
            Unit       = 'x'
            Comparison = '>='
            Target     = if ($inFlight -eq 16) { 0.85 } else { 0.8 }
            Detail     = "${latencyMs} ms, ${slowPercent} % +${slowMs} ms, median of $rounds paired rounds; module {0:N0} msg/s, raw {1:N0} msg/s, ceiling {2:N0} msg/s ({3} messages)" -f $moduleRate, $rawRate, $ceiling, $messages
        }
    }
}
finally {
    $sandbox | Stop-AosSandbox
    Remove-Item -Recurse -Force $work -ErrorAction Ignore
    $env:AOS_SANDBOX_URI = $saved.Uri
    $env:AOS_SANDBOX_DATA = $saved.Data
}
