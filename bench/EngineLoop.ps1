# The engine's own loop vs the raw loop (a companion figure of bench/Bench.ps1, no target): run in a
# pwsh of its own, because the bench's process has the module's engine in the module's load context.
# It talks to the bench's sandbox (AOS_SANDBOX_* in the environment, as the tests do) and writes the
# seconds of each round as JSON: { raw: [...], engine: [...] }.
param(
    [Parameter(Mandatory)] [string] $EngineFolder,
    [Parameter(Mandatory)] [string] $CsvPath,
    [int] $Rounds = 12,
    [int] $WarmRounds = 3
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3
$root = Split-Path $PSScriptRoot
Import-Module (Join-Path $root 'tests/TestHelpers.psm1') -Force

# The engine and what it needs (MimeKit renamed AosMail.MimeKit by the build), from the module's bin
# folder, into this process's default context.
foreach ($name in 'BouncyCastle.Cryptography', 'AosMail.MimeKit', 'AosMail.Engine') {
    $null = [Reflection.Assembly]::LoadFrom((Join-Path $EngineFolder "$name.dll"))
}
Add-Type -Path (Join-Path $PSScriptRoot 'BenchHelper.cs') -ReferencedAssemblies System.Net.Http, System.Net.Primitives, System.Net.Security, System.Security.Cryptography, System.Collections, System.Linq, System.Runtime, System.Threading
Add-Type -Path (Join-Path $PSScriptRoot 'EngineLoop.cs') -ReferencedAssemblies (Join-Path $EngineFolder 'AosMail.Engine.dll'), netstandard, System.Collections, System.Runtime, System.Security, System.Net.Primitives

$base = $env:AOS_SANDBOX_URI
$rows = @(Import-Csv -LiteralPath $CsvPath)
$forms = [System.Collections.Generic.List[byte[]]]::new()
$fields = [System.Collections.Generic.List[string[]]]::new()
foreach ($row in $rows) {
    $forms.Add([AosBenchHelper]::PlainSendForm($row.To, $row.Subject, $row.Body))
    $fields.Add(@($row.To, $row.Subject, $row.Body))
}
$prepared = [AosEngineLoop]::Prepare($fields)

function Assert-Sent([string] $What) {
    $sent = @(Get-SandboxRequest -Command sdmailact | Where-Object Outcome -EQ 'OK')
    if ($sent.Count -ne $rows.Count) { throw "$What sent $($sent.Count) messages, expected $($rows.Count)." }
    [long]($sent | Measure-Object -Property ContentLength -Sum).Sum
}
$runs = @{
    raw    = {
        $client = [AosBenchHelper]::NewClient($false)
        $sid = [AosBenchHelper]::Login($client, $base, 'demo', 'sandbox.test', $env:AOS_SANDBOX_PASSWORD)
        $seconds = [AosBenchHelper]::PostAll($client, "$base/$sid.sdmailact.mail.mms", $forms)
        $client.Dispose()
        $seconds
    }
    engine = {
        $connection = [AosEngineLoop]::Connect($base, $env:AOS_SANDBOX_USER, $env:AOS_SANDBOX_PASSWORD)
        $seconds = [AosEngineLoop]::SubmitAll($connection, $prepared)
        $connection.Dispose()
        $seconds
    }
}
$times = @{ raw = [System.Collections.Generic.List[double]]::new(); engine = [System.Collections.Generic.List[double]]::new() }
foreach ($round in (1 - $WarmRounds)..$Rounds) {
    # Two runs: each goes first every other round.
    $bytes = @{}
    foreach ($name in $(if ($round % 2) { 'raw', 'engine' } else { 'engine', 'raw' })) {
        Reset-Sandbox; [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        $seconds = & $runs[$name]
        $bytes[$name] = Assert-Sent $name
        if ($round -ge 1) { $times[$name].Add($seconds) }
    }
    if ($bytes.raw -ne $bytes.engine) { throw "The raw loop sent $($bytes.raw) bytes, the engine $($bytes.engine): not the same work." }
}
[pscustomobject]@{ raw = $times.raw; engine = $times.engine } | ConvertTo-Json -Compress
