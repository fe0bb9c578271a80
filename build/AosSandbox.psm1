# Starts and stops the AOS sandbox for build.ps1 (Test, Demo) and for the Pester suite.
# The sandbox writes a "ready file" (JSON: baseUri, httpsBaseUri, viewerUri, dataPath, demoUser, demoPassword, pid)
# once Kestrel listens, so callers never parse console text or guess a port.

Set-StrictMode -Version 3

function Start-AosSandbox {
    [CmdletBinding()]
    param(
        # The built AosMail.Sandbox.dll.
        [Parameter(Mandatory)] [string] $SandboxPath,
        # Where the sandbox keeps mail; when omitted, a fresh temporary folder that Stop-AosSandbox removes.
        [string] $DataPath,
        # Where its console output goes.
        [string] $LogPath,
        [int] $Port = 0,
        [int] $TimeoutSec = 60,
        # Extra command-line arguments (e.g. '--idle-minutes', '1').
        [string[]] $ArgumentList = @()
    )
    if (-not (Test-Path -LiteralPath $SandboxPath)) {
        throw "The sandbox is not built: '$SandboxPath' is missing. Run ./build.ps1 Build first."
    }
    $ownsDataPath = -not $DataPath
    if ($ownsDataPath) {
        $DataPath = Join-Path ([IO.Path]::GetTempPath()) ("aos-sandbox-" + [guid]::NewGuid().ToString('n'))
    }
    $null = New-Item -ItemType Directory -Force -Path $DataPath
    $readyFile = Join-Path $DataPath 'sandbox-ready.json'
    Remove-Item -LiteralPath $readyFile -ErrorAction Ignore
    if (-not $LogPath) { $LogPath = Join-Path $DataPath 'sandbox.log' }

    $arguments = @($SandboxPath, '--port', $Port, '--data', $DataPath, '--ready-file', $readyFile) + $ArgumentList
    $process = Start-Process -FilePath 'dotnet' -ArgumentList $arguments -PassThru -NoNewWindow `
        -RedirectStandardOutput $LogPath -RedirectStandardError "$LogPath.err"

    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while (-not (Test-Path -LiteralPath $readyFile)) {
        if ($process.HasExited) {
            $log = (Get-Content -Raw -LiteralPath $LogPath, "$LogPath.err" -ErrorAction Ignore) -join "`n"
            throw "The sandbox exited with code $($process.ExitCode) before it was ready.`n$log"
        }
        if ([DateTime]::UtcNow -gt $deadline) {
            $process.Kill($true)
            throw "The sandbox was not ready within $TimeoutSec s (see $LogPath)."
        }
        Start-Sleep -Milliseconds 100
    }
    # The ready file is written atomically, so it is complete once it exists.
    $ready = Get-Content -Raw -LiteralPath $readyFile | ConvertFrom-Json
    [pscustomobject]@{
        PSTypeName   = 'AosSandbox'
        BaseUri      = [uri]$ready.baseUri
        HttpsBaseUri = [uri]$ready.httpsBaseUri
        ViewerUri    = [uri]$ready.viewerUri
        DataPath     = $ready.dataPath
        DemoUser     = $ready.demoUser
        DemoPassword = $ready.demoPassword
        LogPath      = $LogPath
        Process      = $process
        OwnsDataPath = $ownsDataPath
    }
}

function Stop-AosSandbox {
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline)] $Sandbox)
    process {
        if (-not $Sandbox.Process.HasExited) {
            $Sandbox.Process.Kill($true)
            $null = $Sandbox.Process.WaitForExit(10000)
        }
        # A folder the caller named is theirs to keep; the temporary one (and a log inside it) goes.
        if ($Sandbox.OwnsDataPath) {
            Remove-Item -LiteralPath $Sandbox.DataPath -Recurse -Force -ErrorAction Ignore
        }
    }
}

Export-ModuleMember -Function Start-AosSandbox, Stop-AosSandbox
