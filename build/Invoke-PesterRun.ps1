# Runs the Pester suite in its own pwsh process (started by build.ps1 Test) and writes the
# counts to a JSON file. Failed blocks and containers count as failures: a .Tests.ps1 that
# cannot even be discovered, or whose BeforeAll throws, must fail the run. At its end it reads the
# sandbox judge's verdicts on every message stored during the run, and counts them as one test.
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $TestRoot,
    [string[]] $TestName = '*',
    [Parameter(Mandatory)] [string] $ResultPath
)
$ErrorActionPreference = 'Stop'
# build.ps1 passes the wildcards comma-joined (an array cannot cross the -File boundary).
$TestName = @($TestName | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
if ($TestName.Count -eq 0) { $TestName = '*' }
Import-Module -Name $PesterPath -Force

$paths = Get-ChildItem -Path $TestRoot -Recurse -Filter '*.Tests.ps1' |
    Where-Object { $name = $_.Name; @($TestName | Where-Object { $name -like $_ }).Count -gt 0 } |
    ForEach-Object FullName

# A filter that matches no file runs nothing: that is a failed lane, not "0 failed".
if (-not $paths) {
    Write-Host "No test file in $TestRoot matches -TestName '$($TestName -join ',')'." -ForegroundColor Red
    [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } | ConvertTo-Json | Set-Content -LiteralPath $ResultPath -Encoding utf8
    return
}

$config = New-PesterConfiguration
$config.Run.Path = @($paths)
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.Output.StackTraceVerbosity = 'Filtered'
$result = Invoke-Pester -Configuration $config

$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
$passed = $result.PassedCount

# The sandbox judged every message it stored during the run (docs/sandbox.md, "The judge"); a
# reset between suites keeps the verdicts. An error-level finding in a message no test marked as
# deliberately bad fails the run, counted as one failed test.
try {
    $checks = Invoke-RestMethod -Uri "$($env:AOS_SANDBOX_URI.TrimEnd('/'))/_sandbox/checks?errors=true"
    Write-Host ("Judge: {0} messages judged, {1} of them marked by their tests as deliberately bad; in the others {2} error and {3} warning findings" -f
        $checks.judged, $checks.marked, $checks.errors, $checks.warnings) -ForegroundColor ($checks.errors ? 'Red' : 'Cyan')
    foreach ($message in @($checks.messages | Where-Object { $_ -and -not $_.mark })) {
        Write-Host ("  {0} {1} by {2}, subject '{3}':" -f $message.action, $message.id, $message.user, $message.subject) -ForegroundColor Red
        foreach ($finding in @($message.findings | Where-Object severity -EQ 'error')) {
            Write-Host ("    {0} at line {1} ({2} times): {3}" -f $finding.rule, $finding.line, $finding.count, $finding.detail) -ForegroundColor Red
        }
    }
    if ($checks.errors) { $failed++ } else { $passed++ }
}
catch {
    Write-Host "Judge: the sandbox's verdicts could not be read: $_" -ForegroundColor Red
    $failed++
}

[pscustomobject]@{
    Passed  = $passed
    Failed  = $failed
    Skipped = $result.SkippedCount
} | ConvertTo-Json | Set-Content -LiteralPath $ResultPath -Encoding utf8
