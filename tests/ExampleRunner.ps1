# Runs documented examples for tests/Examples.Tests.ps1 in a fresh pwsh, as a reader would try
# them at one prompt: one page's examples one after another in one scope (an example may use the
# files and variables of the one before it, as its text says), in the current folder, with the
# module on PSModulePath. The one thing it adds is Get-Credential, which answers without a
# prompt with the sandbox account's password (the credential adaptation).
#
# -CasesPath: JSON { Credentials: { user: password }, ControlUri, Examples: [ { Id, Code } ] }.
# Sequence mode writes one result per example to -ResultPath: the error records it wrote (to the
# error stream or as a terminating error), and what it produced: output objects, "What if:" lines,
# messages sent or saved (sdmailact answered 200), sessions added or removed, files written
# (empty and hidden ones left out: pwsh keeps its caches under $HOME/.cache and $HOME/.local).
# Single mode runs the one example at the top level, so that its own 'exit' ends the process.
param(
    [Parameter(Mandatory)] [string] $CasesPath,
    [string] $ResultPath,
    [switch] $Single
)

$cases = Get-Content -Raw -LiteralPath $CasesPath | ConvertFrom-Json
$global:ExampleCredentials = @{}
foreach ($property in $cases.Credentials.PSObject.Properties) { $global:ExampleCredentials[$property.Name] = $property.Value }

function global:Get-Credential {
    [CmdletBinding()]
    param(
        [Parameter(Position = 0)] [Alias('Credential')] [string] $UserName,
        [string] $Message,
        [string] $Title
    )
    $password = $global:ExampleCredentials[$UserName]
    if (-not $password) { throw "The example runner has no password for '$UserName'." }
    [pscredential]::new($UserName, (ConvertTo-SecureString -String $password -AsPlainText -Force))
}

if ($Single) {
    . ([scriptblock]::Create($cases.Examples[0].Code))
    exit 0
}

function Get-LastSeq {
    $seq = @(Invoke-RestMethod -Uri "$($cases.ControlUri)/requests") | Where-Object { $_ } | ForEach-Object seq | Measure-Object -Maximum
    if ($seq.Count) { [long]$seq.Maximum } else { 0L }
}

function Get-FileState {
    # Every file under the working folder and HOME, with its length and time: what an example wrote.
    @(foreach ($root in $PWD.ProviderPath, $HOME) {
            Get-ChildItem -LiteralPath $root -File -Recurse -ErrorAction Ignore |
                Where-Object { $_.Length -gt 0 -and $_.FullName.Substring($root.Length) -notmatch '[\\/]\.' } |
                ForEach-Object { '{0}|{1}|{2}' -f $_.FullName, $_.Length, $_.LastWriteTimeUtc.Ticks }
        }) -join "`n"
}

function Get-SessionState {
    if (Get-Module AosMail) { @(Get-AosSession | ForEach-Object Id) -join ',' } else { '' }
}

$results = [System.Collections.Generic.List[object]]::new()
foreach ($case in $cases.Examples) {
    $seq = Get-LastSeq
    $files = Get-FileState
    $sessions = Get-SessionState
    $transcript = Join-Path ([IO.Path]::GetTempPath()) ("aos-example-" + [guid]::NewGuid().ToString('n') + '.txt')
    $null = Start-Transcript -LiteralPath $transcript
    $errors = [System.Collections.Generic.List[string]]::new()
    $output = 0
    try {
        . ([scriptblock]::Create($case.Code)) 2>&1 | ForEach-Object {
            if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add("$($_.FullyQualifiedErrorId): $($_.Exception.Message)") }
            else { $output++; $_ | Out-Host }
        }
    }
    catch {
        $errors.Add("$($_.FullyQualifiedErrorId): $($_.Exception.Message)")
    }
    $null = Stop-Transcript
    $whatIf = @(Get-Content -LiteralPath $transcript | Where-Object { $_ -like 'What if:*' }).Count
    Remove-Item -LiteralPath $transcript
    $requests = @(Invoke-RestMethod -Uri "$($cases.ControlUri)/requests") | Where-Object { $_ -and $_.seq -gt $seq }
    $results.Add([pscustomobject]@{
            Id              = $case.Id
            Errors          = @($errors)
            Output          = $output
            WhatIf          = $whatIf
            Saved           = @($requests | Where-Object { $_.command -eq 'sdmailact' -and $_.status -eq 200 }).Count
            Requests        = @($requests).Count
            SessionsChanged = (Get-SessionState) -ne $sessions
            FilesChanged    = (Get-FileState) -ne $files
        })
}
ConvertTo-Json -InputObject @($results) -Depth 4 | Set-Content -LiteralPath $ResultPath -Encoding utf8
