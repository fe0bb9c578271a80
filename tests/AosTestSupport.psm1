# Helpers of the cmdlet suites (Session, Send, Pipeline, Errors, Faults, Secrets). The sandbox's own
# helpers (Reset-Sandbox, Get-SandboxRequest, ...) live in TestHelpers.psm1, owned by the sandbox;
# these build on them and never reach into the module's private members.

Set-StrictMode -Version 3

function Get-SandboxHttpUri {
    # The sandbox's http base URI, no trailing slash.
    $uri = $env:AOS_SANDBOX_URI
    if (-not $uri) { throw 'AOS_SANDBOX_URI is not set: run the suite through ./build.ps1 Test.' }
    $uri.TrimEnd('/')
}

function New-DemoSession {
    # Logs the demo user (or another account) in to the http sandbox; the session becomes the default.
    [CmdletBinding()]
    param(
        [string] $UserName = $env:AOS_SANDBOX_USER,
        [string] $Password = $env:AOS_SANDBOX_PASSWORD,
        [int] $TimeoutSec = 100
    )
    $credential = [pscredential]::new($UserName, (ConvertTo-SecureString -String $Password -AsPlainText -Force))
    New-AosSession -Server (Get-SandboxHttpUri) -Credential $credential -AllowUnencryptedAuthentication -TimeoutSec $TimeoutSec -ErrorAction Stop
}

function Format-FieldList {
    # One line per field, "name=value", CR and LF shown as \r and \n, so a whole form compares
    # as one string and a failure shows the difference readably.
    param([AllowEmptyCollection()] [object[]] $Fields)
    @($Fields | ForEach-Object {
            $value = [string]$_.Value
            '{0}={1}' -f $_.Name, ($value.Replace("`r", '\r').Replace("`n", '\n').Replace("`0", '\0'))
        }) -join "`n"
}

function Assert-FieldList {
    <#
    Compares a recorded request's fields with the expected list, whole: names, order, count and
    values. An expected value may be a string (compared exactly, case-sensitive) or a [regex]
    (matched, anchored by the caller) for what MimeKit chooses (encoded-words, boundaries).
    Expected is a list of two-element arrays: @('api', 'lc'), @('msub', [regex]'^=\?utf-8\?').
    #>
    param(
        [Parameter(Mandatory)] $Request,
        [Parameter(Mandatory)] [object[]] $Expected
    )
    $actual = @($Request.Fields)
    $actualText = Format-FieldList $actual
    $names = @($actual | ForEach-Object Name) -join ','
    $expectedNames = @($Expected | ForEach-Object { $_[0] }) -join ','
    if ($names -cne $expectedNames) {
        throw "Expected the fields [$expectedNames] in this order, but the request had [$names]:`n$actualText"
    }
    for ($i = 0; $i -lt $Expected.Count; $i++) {
        $want = $Expected[$i][1]
        $got = [string]$actual[$i].Value
        $ok = if ($want -is [regex]) { $want.IsMatch($got) } else { $got -ceq [string]$want }
        if (-not $ok) {
            $shown = ([string]$want).Replace("`r", '\r').Replace("`n", '\n')
            throw "Field #$i '$($actual[$i].Name)': expected $(if ($want -is [regex]) { 'a match for ' })'$shown' but the request had:`n$actualText"
        }
    }
}

function Invoke-Captured {
    <#
    Runs a script block and sorts what it produced: output objects, error records (non-terminating
    ones through 2>&1, a terminating one through catch), warnings, and the requests the sandbox
    recorded meanwhile (by sequence number, so earlier requests do not count).
    #>
    param([Parameter(Mandatory)] [scriptblock] $ScriptBlock)
    $before = @(Get-SandboxRequest | ForEach-Object Seq | Measure-Object -Maximum).Maximum
    if ($null -eq $before) { $before = 0 }
    $output = [System.Collections.Generic.List[object]]::new()
    $errors = [System.Collections.Generic.List[object]]::new()
    $warnings = [System.Collections.Generic.List[object]]::new()
    $started = [Diagnostics.Stopwatch]::StartNew()
    try {
        & $ScriptBlock 2>&1 3>&1 | ForEach-Object {
            if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add($_) }
            elseif ($_ -is [System.Management.Automation.WarningRecord]) { $warnings.Add($_) }
            else { $output.Add($_) }
        }
    }
    catch {
        $errors.Add($_)
    }
    $started.Stop()
    [pscustomobject]@{
        Output   = $output.ToArray()
        Errors   = $errors.ToArray()
        Warnings = $warnings.ToArray()
        Requests = @(Get-SandboxRequest | Where-Object Seq -GT $before)
        Elapsed  = $started.Elapsed
    }
}

function Assert-OneError {
    <#
    The result of Invoke-Captured holds exactly one error record, with this stable error id, this
    category and (when given) a message like -MessageLike. On a wrong count it shows the records.
    #>
    param(
        [Parameter(Mandatory)] $Result,
        [Parameter(Mandatory)] [string] $ErrorId,
        [Parameter(Mandatory)] [System.Management.Automation.ErrorCategory] $Category,
        [string] $MessageLike = '*'
    )
    $Result.Errors.Count | Should -Be 1 -Because ($Result.Errors | Out-String)
    $Result.Errors[0] | Get-ErrorId | Should -BeExactly $ErrorId
    $Result.Errors[0].CategoryInfo.Category | Should -Be $Category
    $Result.Errors[0].Exception.Message | Should -BeLike $MessageLike
}

function Get-ErrorId {
    # The stable error id: FullyQualifiedErrorId up to the first comma.
    param([Parameter(Mandatory, ValueFromPipeline)] [System.Management.Automation.ErrorRecord] $ErrorRecord)
    process { ($ErrorRecord.FullyQualifiedErrorId -split ',')[0] }
}

function New-RandomFile {
    # A file of random bytes (every byte value likely), returned as FileInfo.
    param([Parameter(Mandatory)] [string] $Path, [int] $Size = 4096)
    $bytes = [byte[]]::new($Size)
    [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
    [System.IO.File]::WriteAllBytes($Path, $bytes)
    Get-Item -LiteralPath $Path
}

function Get-PartBytes {
    # The decoded content of a MimeKit MimePart, as bytes.
    param([Parameter(Mandatory)] $Part)
    $stream = [System.IO.MemoryStream]::new()
    $null = $Part.Content.DecodeTo($stream)
    , $stream.ToArray()
}

function Get-MessageBodyText {
    # The raw text after the header block of an .eml file (UTF-8), CRLFs intact.
    param([Parameter(Mandatory)] [string] $Path)
    $text = [System.Text.Encoding]::UTF8.GetString([System.IO.File]::ReadAllBytes($Path))
    $split = $text.IndexOf("`r`n`r`n")
    if ($split -lt 0) { throw "No CRLF CRLF header/body separator in '$Path'." }
    $text.Substring($split + 4)
}

function Get-MessageHeaderText {
    param([Parameter(Mandatory)] [string] $Path)
    $text = [System.Text.Encoding]::UTF8.GetString([System.IO.File]::ReadAllBytes($Path))
    $split = $text.IndexOf("`r`n`r`n")
    if ($split -lt 0) { throw "No CRLF CRLF header/body separator in '$Path'." }
    $text.Substring(0, $split + 2)
}

function Get-FreeLocalPort {
    # A port on 127.0.0.1 that nobody listens on (bound once by the OS, then released).
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Invoke-ChildPwsh {
    # Runs a command in a new, non-interactive pwsh process (the same PowerShell this suite runs
    # in: under the dotnet tool that is dotnet running pwsh.dll) and returns its output lines,
    # errors included; the exit code is in $LASTEXITCODE. A fresh process is the only clean slate
    # for what a process keeps: loaded assemblies, the module's sessions.
    param([Parameter(Mandatory)] [string] $Command)
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Command))
    $process = [Environment]::ProcessPath
    [string[]] $prefix = if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' } else { @() }
    & $process @prefix -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1
}

function Get-OnlySend {
    # The one sdmailact request of this test: a POST with the form content type to the SID-prefixed command.
    $sends = @(Get-SandboxRequest -Command sdmailact)
    $sends.Count | Should -Be 1 -Because 'exactly one sdmailact request was made'
    $sends[0].Method | Should -BeExactly 'POST'
    $sends[0].Path | Should -BeExactly '/<SID>.sdmailact.mail.mms'
    $sends[0].ContentType | Should -Match '^application/x-www-form-urlencoded; ?charset=utf-8$'
    $sends[0]
}

function Get-OnlyMessage {
    # The one message in a user's mailbox, parsed with MimeKit.
    param([Parameter(Mandatory)] [string] $User, [string] $Mailbox = 'Inbox')
    $items = @(Get-SandboxMessage -User $User -Mailbox $Mailbox)
    $items.Count | Should -Be 1 -Because "exactly one message is in $User's $Mailbox"
    Read-MimeMessage -Path $items[0].Path
}

function Start-TestProxy {
    <#
    Starts a forward HTTP proxy on 127.0.0.1 (tests/TestProxy.cs) that records every request it
    sees; with -Credential it answers requests without that Basic credential with 407. Its Uri
    property is what -Proxy takes, its Requests property what it saw. Stop it with Stop-TestProxy.
    #>
    param([pscredential] $Credential)
    if (-not ('AosMail.Tests.TestProxy' -as [type])) {
        Add-Type -LiteralPath (Join-Path $PSScriptRoot 'TestProxy.cs')
    }
    if ($Credential) { [AosMail.Tests.TestProxy]::new($Credential.UserName, $Credential.GetNetworkCredential().Password) }
    else { [AosMail.Tests.TestProxy]::new($null, $null) }
}

function Stop-TestProxy {
    param([Parameter(ValueFromPipeline)] $Proxy)
    process { if ($Proxy) { $Proxy.Dispose() } }
}

Export-ModuleMember -Function Get-SandboxHttpUri, New-DemoSession, Format-FieldList, Assert-FieldList, Invoke-Captured, Assert-OneError,
    Get-ErrorId, New-RandomFile, Get-PartBytes, Get-MessageBodyText, Get-MessageHeaderText, Get-FreeLocalPort, Invoke-ChildPwsh,
    Get-OnlySend, Get-OnlyMessage, Start-TestProxy, Stop-TestProxy
