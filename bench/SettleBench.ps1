# The settle section of bench/Bench.ps1 (dot-sourced there, in its scope: $credential, $csv,
# $messages, $Smoke, $SandboxPath, $sandboxData, $sandbox, Add-Result, Get-Median).
# A server 50 ms away loses the answer of one send in five after acting (dropAfter); the same rows
# go with -ThrottleLimit 16 without -KeepCopy (those rows end AosOutcomeUnknown: nothing to settle)
# and with -KeepCopy (each is settled by its copy in the Outbox: one listing and one read). Paired
# rounds, the order turning each round:
#   time       with settling / without          <= 1.5x (the settled rows' two reads, 50 ms each,
#                                                   overlap the other rows' sends)
#   requests   with settling / without          <= 1.4x (one listing and one read per lost answer:
#                                                   1 + 2 x 20 %)
# Every row must end: without settling, exactly the faulted rows are AosOutcomeUnknown; with it,
# none is, each is settled, and the spool holds each row once.
$settleRounds = if ($Smoke) { 1 } else { 3 }
$settleEvery = 5

function Measure-SettleRun([switch] $KeepCopy) {
    Reset-Sandbox
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    $dropped = [int][math]::Floor($messages / $settleEvery)
    for ($i = 0; $i -lt $dropped; $i++) {
        Add-SandboxFault -Command sdmailact -Action delay -DelayMs 0 -Times ($settleEvery - 1)
        Add-SandboxFault -Command sdmailact -Action dropAfter
    }
    $session = New-AosSession -Server $env:AOS_SANDBOX_URI -Credential $credential -AllowUnencryptedAuthentication
    Clear-SandboxRequest
    $failed = $null
    $output = $null
    $seconds = (Measure-Command {
            $output = Import-Csv -LiteralPath $csv | Send-AosMessage -Session $session -ThrottleLimit 16 -KeepCopy:$KeepCopy -PassThru -ErrorAction SilentlyContinue -ErrorVariable failed
        }).TotalSeconds
    $requests = @(Get-SandboxRequest).Count
    $unknown = @($failed | Where-Object { ($_.FullyQualifiedErrorId -split ',')[0] -eq 'AosOutcomeUnknown' }).Count
    $settled = @($output | Where-Object SettledAs).Count
    $spool = @(Get-SandboxSpool).Count
    $session | Remove-AosSession
    if ($spool -ne $messages) { throw "The run $(if ($KeepCopy) { 'with' } else { 'without' }) settling left $spool mails in the spool, not $messages." }
    if ($KeepCopy -and (@($failed).Count -ne 0 -or $settled -ne $dropped)) { throw "With settling: $(@($failed).Count) errors, $settled settled of $dropped lost answers. $(@($failed)[0])" }
    if (-not $KeepCopy -and ($unknown -ne $dropped -or @($failed).Count -ne $dropped)) { throw "Without settling: $unknown unknown of $dropped lost answers ($(@($failed).Count) errors)." }
    [pscustomobject]@{ Seconds = $seconds; Requests = $requests }
}

$settleFar = Start-AosSandbox -SandboxPath $SandboxPath -DataPath "$sandboxData-settle-far" -ArgumentList '--latency-ms', 50, '--no-demo-mail'
$settleNear = $env:AOS_SANDBOX_URI
try {
    $env:AOS_SANDBOX_URI = $settleFar.BaseUri.AbsoluteUri.TrimEnd('/')
    $env:AOS_SANDBOX_DATA = $settleFar.DataPath
    $null = Measure-SettleRun; $null = Measure-SettleRun -KeepCopy   # warm
    $without = [System.Collections.Generic.List[object]]::new(); $with = [System.Collections.Generic.List[object]]::new()
    foreach ($round in 1..$settleRounds) {
        if ($round % 2) { $without.Add((Measure-SettleRun)); $with.Add((Measure-SettleRun -KeepCopy)) }
        else { $with.Add((Measure-SettleRun -KeepCopy)); $without.Add((Measure-SettleRun)) }
    }
    $pairs = 0..($settleRounds - 1)
    $detail = "median of $settleRounds paired rounds of $messages rows, 1 in $settleEvery answers dropped after acting, 50 ms, ThrottleLimit 16"
    Add-Result 'settle: time with / without' @($pairs | ForEach-Object { $with[$_].Seconds / $without[$_].Seconds }) 'x' '<=' 1.5 `
        ("$detail; {0:N2} s with, {1:N2} s without (medians)" -f (Get-Median $with.Seconds), (Get-Median $without.Seconds))
    # One listing and one read per lost answer is 1.4x, the floor; a copy listed only at a second
    # look, or behind more than LCTop newer lines, costs one listing more: the target allows that
    # for half of the lost answers.
    Add-Result 'settle: requests with / without' @($pairs | ForEach-Object { $with[$_].Requests / $without[$_].Requests }) 'x' '<=' 1.5 `
        ("{0} requests with, {1} without (medians)" -f (Get-Median $with.Requests), (Get-Median $without.Requests))
}
finally {
    $settleFar | Stop-AosSandbox
    Remove-Item -Recurse -Force "$sandboxData-settle-far" -ErrorAction Ignore
    $env:AOS_SANDBOX_URI = $settleNear
    $env:AOS_SANDBOX_DATA = $sandbox.DataPath
}
