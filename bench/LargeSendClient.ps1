# A child of bench/LargeSend.ps1: a fresh pwsh that imports the module, logs in, and sends the given
# attachments in order, one message each. For each send it writes one JSON line: the machine's
# monotonic clock before and after (Stopwatch ticks, comparable with the discard server's), this
# process's CPU seconds spent in it, and its peak working-set growth (VmHWM after clear_refs).
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Server,
    [Parameter(Mandatory)] [string] $User,
    [Parameter(Mandatory)] [string] $Password,
    # Paths joined by '|' (a -File argument is one string).
    [Parameter(Mandatory)] [string] $Attachments
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$credential = [pscredential]::new($User, (ConvertTo-SecureString $Password -AsPlainText -Force))
$session = New-AosSession -Server $Server -Credential $credential -AllowUnencryptedAuthentication
$self = [Diagnostics.Process]::GetCurrentProcess()
function Get-Kb([string] $Name) { [long]((Get-Content /proc/self/status | Where-Object { $_ -like "${Name}:*" }) -replace '\D', '') * 1KB }
foreach ($attachment in $Attachments -split '\|') {
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    [IO.File]::WriteAllText('/proc/self/clear_refs', '5')
    $rss = Get-Kb VmRSS
    $self.Refresh(); $cpu = $self.TotalProcessorTime.TotalSeconds
    $start = [Diagnostics.Stopwatch]::GetTimestamp()
    $null = Send-AosMessage -Session $session -To 'bob@sandbox.test' -Subject 'large' -Body 'large attachment' -Attachments $attachment -ProgressAction SilentlyContinue
    $end = [Diagnostics.Stopwatch]::GetTimestamp()
    $self.Refresh()
    [pscustomobject]@{ Start = $start; End = $end; Cpu = $self.TotalProcessorTime.TotalSeconds - $cpu; Growth = (Get-Kb VmHWM) - $rss } | ConvertTo-Json -Compress
}
