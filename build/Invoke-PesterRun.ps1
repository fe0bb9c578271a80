# Runs the Pester suite in its own pwsh process (started by build.ps1 Test) and writes the
# counts to a JSON file. Failed blocks and containers count as failures: a .Tests.ps1 that
# cannot even be discovered, or whose BeforeAll throws, must fail the run.
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
[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $failed
    Skipped = $result.SkippedCount
} | ConvertTo-Json | Set-Content -LiteralPath $ResultPath -Encoding utf8
