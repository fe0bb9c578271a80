# The journal section of bench/Bench.ps1 (dot-sourced there, in its scope: $sandbox, $credential,
# $csv, $messages, $rows, $Smoke, $SandboxPath, $sandboxData, $JournalFolder, Add-Result, Assert-Sent).
# Send-AosMessage -JournalPath with the journal on the disk the bench runs from (out/, never /tmp or
# /dev/shm, which may be RAM; Bench.ps1 -JournalFolder puts it on another file system): each row's pending line is on disk before its request and its sent
# line before its result, and rows in flight together share flushes (group commit). Paired rounds
# of the same rows without and with a new journal, their order turning each round:
#   loopback, one row at a time                  >= 0.6x the run without a journal (and, no target, the
#                                                same with the journal on tmpfs: the journal less the disk)
#   a server 50 ms away, -ThrottleLimit 16       >= 0.95x the run without a journal
#   100,000 journaled rows (-ThrottleLimit 16)   the heap held at the end of the run (every key
#                                                recorded, the journal still open) <= 64 MB above before
#   the flush alone, appended vs into room       (no target: the disk's figure) what a line's flush costs
#                                                on this disk when the file grows with it, over the same
#                                                into zeros written ahead (the room the journal keeps)
$journalFolder = if ($JournalFolder) { Join-Path $JournalFolder 'bench-journal' } else { Join-Path (Split-Path $PSScriptRoot) 'out/bench-journal' }
$null = New-Item -ItemType Directory -Force $journalFolder
$journalRounds = if ($Smoke) { 1 } else { 6 }

function Measure-JournalRun([string] $Base, [string] $Csv, [int] $Count, [int] $ThrottleLimit, [switch] $Journal, [string] $Folder = $journalFolder) {
    Reset-Sandbox
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    $session = New-AosSession -Server $Base -Credential $credential -AllowUnencryptedAuthentication
    $path = Join-Path $Folder ([guid]::NewGuid().ToString('n') + '.jsonl')
    $journalArgument = if ($Journal) { @{ JournalPath = $path } } else { @{} }
    $seconds = (Measure-Command { Import-Csv -LiteralPath $Csv | Send-AosMessage -Session $session -ThrottleLimit $ThrottleLimit @journalArgument }).TotalSeconds
    $null = Assert-Sent $Count "the run $(if ($Journal) { 'with' } else { 'without' }) a journal"
    if ($Journal -and @(Get-Content -LiteralPath $path).Count -ne 1 + 2 * $Count) { throw "The journal has not 1 + 2 x $Count lines." }
    $session | Remove-AosSession
    Remove-Item -LiteralPath $path -ErrorAction Ignore
    $seconds
}

# Paired rounds: the ratios of (time without) / (time with), the order turning each round.
function Measure-JournalRatio([string] $Base, [string] $Csv, [int] $Count, [int] $ThrottleLimit, [string] $Folder = $journalFolder) {
    $null = Measure-JournalRun $Base $Csv $Count $ThrottleLimit; $null = Measure-JournalRun $Base $Csv $Count $ThrottleLimit -Journal -Folder $Folder   # warm
    $without = [System.Collections.Generic.List[double]]::new(); $with = [System.Collections.Generic.List[double]]::new()
    foreach ($round in 1..$journalRounds) {
        if ($round % 2) { $without.Add((Measure-JournalRun $Base $Csv $Count $ThrottleLimit)); $with.Add((Measure-JournalRun $Base $Csv $Count $ThrottleLimit -Journal -Folder $Folder)) }
        else { $with.Add((Measure-JournalRun $Base $Csv $Count $ThrottleLimit -Journal -Folder $Folder)); $without.Add((Measure-JournalRun $Base $Csv $Count $ThrottleLimit)) }
    }
    [pscustomobject]@{
        Ratios = @(0..($journalRounds - 1) | ForEach-Object { $without[$_] / $with[$_] })
        # Per row: what the journal adds to a row's time is what the figure is made of (one flush a row, one row at a time).
        Rates  = '{0:N0} msg/s with a journal, {1:N0} without (medians): a row {2:N3} ms with, {3:N3} ms without' -f ($Count / (Get-Median $with)), ($Count / (Get-Median $without)),
            (1000 * (Get-Median $with) / $Count), (1000 * (Get-Median $without) / $Count)
    }
}

$nearBase = $env:AOS_SANDBOX_URI
$sequential = Measure-JournalRatio $nearBase $csv $messages 1
Add-Result 'journal: loopback sequential' $sequential.Ratios 'x' '>=' 0.6 "median of $journalRounds paired rounds of $messages rows; $($sequential.Rates)"
# The same with the journal on tmpfs, where a flush is free: the journal's own work, so that the
# figure above, less this, is the disk's flush (one a row, on the row's path).
if ($IsLinux -and (Test-Path -LiteralPath /dev/shm -PathType Container)) {
    $memoryFolder = Join-Path /dev/shm ('aos-bench-journal-' + [guid]::NewGuid().ToString('n'))
    $null = New-Item -ItemType Directory -Force $memoryFolder
    try {
        $onTmpfs = Measure-JournalRatio $nearBase $csv $messages 1 -Folder $memoryFolder
        Add-Result 'journal: loopback sequential, tmpfs' $onTmpfs.Ratios 'x' '' 0 "median of $journalRounds paired rounds of $messages rows, the journal on tmpfs, where a flush costs nothing; $($onTmpfs.Rates)"
    }
    finally { Remove-Item -Recurse -Force $memoryFolder -ErrorAction Ignore }
}

$journalFar = Start-AosSandbox -SandboxPath $SandboxPath -DataPath "$sandboxData-journal-far" -ArgumentList '--latency-ms', 50
try {
    $env:AOS_SANDBOX_URI = $journalFar.BaseUri.AbsoluteUri.TrimEnd('/')
    $env:AOS_SANDBOX_DATA = $journalFar.DataPath
    $far16 = Measure-JournalRatio $env:AOS_SANDBOX_URI $csv $messages 16
    Add-Result 'journal: 50 ms, ThrottleLimit 16' $far16.Ratios 'x' '>=' 0.95 "median of $journalRounds paired rounds of $messages rows; $($far16.Rates)"
}
finally {
    $journalFar | Stop-AosSandbox
    Remove-Item -Recurse -Force "$sandboxData-journal-far" -ErrorAction Ignore
    $env:AOS_SANDBOX_URI = $nearBase
    $env:AOS_SANDBOX_DATA = $sandbox.DataPath
}

# 100,000 rows through one journal: the heap measured when the last result comes out, while the
# command (and its journal, with every key) is still open.
$journalRows = if ($Smoke) { 500 } else { 100000 }
$journalCsv = Join-Path $journalFolder 'rows.csv'
1..$journalRows | ForEach-Object { [pscustomobject]@{ To = 'bob@sandbox.test'; Subject = 'journal {0:D6}' -f $_; Body = "Row $_ of the journal benchmark." } } |
    Export-Csv -LiteralPath $journalCsv -NoTypeInformation
Reset-Sandbox
$session = New-AosSession -Server $nearBase -Credential $credential -AllowUnencryptedAuthentication
$path = Join-Path $journalFolder 'rows.jsonl'
Remove-Item -LiteralPath $path -ErrorAction Ignore
[GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
$heapBefore = [GC]::GetTotalMemory($true)
$lastSubject = 'journal {0:D6}' -f $journalRows
$heapAtEnd = 0; $sentRows = 0
$seconds = (Measure-Command {
        Import-Csv -LiteralPath $journalCsv | Send-AosMessage -Session $session -JournalPath $path -ThrottleLimit 16 -PassThru | ForEach-Object {
            $sentRows++
            if ($_.Subject -eq $lastSubject) { $heapAtEnd = [GC]::GetTotalMemory($true) }
        }
    }).TotalSeconds
$session | Remove-AosSession
if ($sentRows -ne $journalRows -or $heapAtEnd -eq 0) { throw "The 100,000-row journal run sent $sentRows rows of $journalRows." }
$journalLines = [IO.File]::ReadLines($path) | Measure-Object | ForEach-Object Count
Remove-Item -LiteralPath $path, $journalCsv -ErrorAction Ignore
Add-Result "journal: heap of $journalRows rows" (($heapAtEnd - $heapBefore) / 1MB) 'MB' '<=' 64 `
    ("{0:N0} -> {1:N0} MB (GC heap, when the last result came out); {2:N0} rows/s with -ThrottleLimit 16 on loopback; {3:N0} journal lines" -f ($heapBefore / 1MB), ($heapAtEnd / 1MB), ($journalRows / $seconds), $journalLines)

# The flush alone (bench/JournalFlush.cs): paired blocks of 200 lines, appended and into room, their
# order turning each block, 0.3 ms of CPU between flushes (a loopback request). What the room saves
# is the disk's doing, so no target: it tells whether the room is worth keeping on this disk.
Add-Type -Path (Join-Path $PSScriptRoot 'JournalFlush.cs')
$flushPath = Join-Path $journalFolder 'flush.bin'
$flushBlocks = if ($Smoke) { 2 } else { 20 }
$null = [AosJournalFlushBench]::MedianFlushMilliseconds($flushPath, 50, $true, 300)
$appended = [System.Collections.Generic.List[double]]::new(); $intoRoom = [System.Collections.Generic.List[double]]::new()
foreach ($block in 1..$flushBlocks) {
    foreach ($room in $(if ($block % 2) { $false, $true } else { $true, $false })) {
        $flush = [AosJournalFlushBench]::MedianFlushMilliseconds($flushPath, 200, $room, 300)
        if ($room) { $intoRoom.Add($flush) } else { $appended.Add($flush) }
    }
}
Add-Result 'journal: flush appended / into room' @(0..($flushBlocks - 1) | ForEach-Object { $appended[$_] / $intoRoom[$_] }) 'x' '' 0 `
    ('median of {0} paired blocks of 200 flushes, each block by its median flush; a flush {1:N3} ms appended, {2:N3} ms into room' -f $flushBlocks, (Get-Median $appended), (Get-Median $intoRoom))

# The same flush into room as fsync (FileStream's) and as fdatasync (the journal's on Linux,
# AosFileSync), a 1 ms sleep between flushes (a thread waiting, as for its request in a run), paired
# blocks in turning order, each by its mean flush (only some flushes carry a commit). No target:
# where the file system has a journal of its own (ext4, XFS) fsync also commits the modification
# time a write changes, which fdatasync leaves out.
if ($IsLinux) {
    $fsync = [System.Collections.Generic.List[double]]::new(); $fdatasync = [System.Collections.Generic.List[double]]::new()
    foreach ($block in 1..$flushBlocks) {
        foreach ($dataOnly in $(if ($block % 2) { $false, $true } else { $true, $false })) {
            $flush = [AosJournalFlushBench]::MeanFlushMilliseconds($flushPath, 200, $true, 0, $dataOnly, 1)
            if ($dataOnly) { $fdatasync.Add($flush) } else { $fsync.Add($flush) }
        }
    }
    Add-Result 'journal: flush fsync / fdatasync' @(0..($flushBlocks - 1) | ForEach-Object { $fsync[$_] / $fdatasync[$_] }) 'x' '' 0 `
        ('median of {0} paired blocks of 200 flushes into room, each block by its mean flush; a flush {1:N3} ms by fsync, {2:N3} ms by fdatasync; {3}' -f $flushBlocks, (Get-Median $fsync), (Get-Median $fdatasync), $journalFolder)
}
