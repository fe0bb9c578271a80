# The helpers of every Pester suite, in one place: tests/TestSetup.ps1 imports this module for
# each suite (bench/ imports it too, for the sandbox's control API). Everything reads the running
# sandbox from the environment build.ps1 Test sets:
#   AOS_SANDBOX_URI, AOS_SANDBOX_HTTPS_URI, AOS_SANDBOX_DATA, AOS_SANDBOX_USER,
#   AOS_SANDBOX_PASSWORD, AOS_TEST_MODULE, AOS_SANDBOX_DLL
# In order: the sandbox and its control API (/_sandbox/..., docs/sandbox.md), the mail it stored,
# raw HTTP requests, logging in, assertions on requests and error records, files and processes.
# Nothing here reaches into the module's private members.

Set-StrictMode -Version 3

$script:HttpClients = @{}
$script:Mailboxes = 'Inbox', 'Draft', 'Outbox'

function Get-SandboxEnv {
    param([Parameter(Mandatory)] [string] $Name)
    $value = [Environment]::GetEnvironmentVariable($Name)
    if (-not $value) { throw "$Name is not set: run the tests through 'dotnet pwsh ./build.ps1 Test', which starts the sandbox." }
    $value
}

function Get-ControlUri {
    param([Parameter(Mandatory)] [string] $Path)
    "$((Get-SandboxEnv AOS_SANDBOX_URI).TrimEnd('/'))/_sandbox/$Path"
}

function Get-TestSandbox {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param()
    $https = $env:AOS_SANDBOX_HTTPS_URI
    if (-not $https) { $https = (Invoke-RestMethod -Uri (Get-ControlUri 'info')).httpsBaseUri }
    [pscustomobject]@{
        BaseUri      = (Get-SandboxEnv AOS_SANDBOX_URI).TrimEnd('/')
        HttpsBaseUri = $https.TrimEnd('/')
        DataPath     = Get-SandboxEnv AOS_SANDBOX_DATA
        DemoUser     = Get-SandboxEnv AOS_SANDBOX_USER
        DemoPassword = Get-SandboxEnv AOS_SANDBOX_PASSWORD
    }
}

function Reset-Sandbox {
    [CmdletBinding()]
    param(
        # The demo Inbox as a sandbox started without --no-demo-mail has it (tests/Examples.Tests.ps1).
        [switch] $DemoMail
    )
    $null = Invoke-RestMethod -Method Post -Uri ((Get-ControlUri 'reset') + $(if ($DemoMail) { '?demoMail=true' }))
}

function Get-SandboxRequest {
    [CmdletBinding()]
    param(
        # A command key: login, sqVry, sqSpec, sdmailact, openbox, rdmail, mboxtable.
        [string] $Command
    )
    $uri = Get-ControlUri 'requests'
    if ($Command) { $uri += '?command=' + [uri]::EscapeDataString($Command) }
    $records = Invoke-RestMethod -Uri $uri
    foreach ($r in @($records)) {
        if ($null -eq $r) { continue }
        [pscustomobject]@{
            Seq           = [long]$r.seq
            Time          = $r.time
            Method        = $r.method
            Path          = $r.path
            Command       = $r.command
            HasSid        = [bool]$r.hasSid
            ContentType   = $r.contentType
            ContentLength = $r.contentLength
            ConnectionId  = $r.connectionId
            Fields        = @(foreach ($f in @($r.fields)) {
                    if ($null -ne $f) { [pscustomobject]@{ Name = $f.name; Value = $f.value; Length = [int]$f.length } }
                })
            Status        = [int]$r.status
            Outcome       = $r.outcome
            Fault         = $r.fault
            DurationMs    = [double]$r.durationMs
        }
    }
}

function Clear-SandboxRequest {
    [CmdletBinding()]
    param()
    $null = Invoke-RestMethod -Method Delete -Uri (Get-ControlUri 'requests')
}

function Add-SandboxFault {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Command,
        [Parameter(Mandatory)]
        [ValidateSet('delay', 'status', 'text', 'expire', 'dropBefore', 'dropAfter', 'redirect', 'stall', 'trickle', 'dropMidAnswer', 'statusAfter')]
        [string] $Action,
        [int] $DelayMs,
        [int] $StatusCode,
        [string] $Text,
        [string] $Location,
        # text: pad the text with spaces to this many bytes.
        [long] $Size,
        [ValidateRange(1, [int]::MaxValue)] [int] $Times = 1
    )
    $body = [ordered]@{ command = $Command; action = $Action; times = $Times }
    if ($PSBoundParameters.ContainsKey('Size')) { $body.size = $Size }
    if ($PSBoundParameters.ContainsKey('DelayMs')) { $body.delayMs = $DelayMs }
    if ($PSBoundParameters.ContainsKey('StatusCode')) { $body.status = $StatusCode }
    if ($PSBoundParameters.ContainsKey('Text')) { $body.text = $Text }
    if ($PSBoundParameters.ContainsKey('Location')) { $body.location = $Location }
    $null = Invoke-RestMethod -Method Post -Uri (Get-ControlUri 'faults') -ContentType 'application/json' `
        -Body ($body | ConvertTo-Json -Compress)
}

function Clear-SandboxFault {
    [CmdletBinding()]
    param()
    $null = Invoke-RestMethod -Method Delete -Uri (Get-ControlUri 'faults')
}

function Set-SandboxOption {
    [CmdletBinding()]
    param(
        [ValidateRange(1, [int]::MaxValue)] [int] $IdleSeconds,
        [bool] $LegacyOpenbox,
        # The largest request body accepted (512 MB at start); a reset restores it.
        [ValidateRange(1, [long]::MaxValue)] [long] $MaxRequestBytes,
        # A far-away server: each request takes this long in all (0: none; a reset restores the start value).
        [ValidateRange(0, [int]::MaxValue)] [int] $LatencyMs,
        # Uneven latency: this share of requests (every (100 / N)-th) takes SlowMs longer; each request a uniform 0 to JitterMs longer.
        [ValidateRange(0, 100)] [int] $SlowPercent,
        [ValidateRange(0, [int]::MaxValue)] [int] $SlowMs,
        [ValidateRange(0, [int]::MaxValue)] [int] $JitterMs,
        # Slow reading: request bodies are read at most this fast (0: as fast as they come).
        [ValidateRange(0, [long]::MaxValue)] [long] $ReadBytesPerSecond,
        # A server that keeps an Outbox copy of every send, keepcopy or not.
        [bool] $AlwaysKeepCopy
    )
    $body = @{}
    if ($PSBoundParameters.ContainsKey('LatencyMs')) { $body.latencyMs = $LatencyMs }
    if ($PSBoundParameters.ContainsKey('SlowPercent')) { $body.slowPercent = $SlowPercent }
    if ($PSBoundParameters.ContainsKey('SlowMs')) { $body.slowMs = $SlowMs }
    if ($PSBoundParameters.ContainsKey('JitterMs')) { $body.jitterMs = $JitterMs }
    if ($PSBoundParameters.ContainsKey('ReadBytesPerSecond')) { $body.readBytesPerSecond = $ReadBytesPerSecond }
    if ($PSBoundParameters.ContainsKey('IdleSeconds')) { $body.idleSeconds = $IdleSeconds }
    if ($PSBoundParameters.ContainsKey('LegacyOpenbox')) { $body.legacyOpenbox = $LegacyOpenbox }
    if ($PSBoundParameters.ContainsKey('AlwaysKeepCopy')) { $body.alwaysKeepCopy = $AlwaysKeepCopy }
    if ($PSBoundParameters.ContainsKey('MaxRequestBytes')) { $body.maxRequestBytes = $MaxRequestBytes }
    Invoke-RestMethod -Method Post -Uri (Get-ControlUri 'options') -ContentType 'application/json' `
        -Body ($body | ConvertTo-Json -Compress)
}

function Add-SandboxUser {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $Domain,
        [Parameter(Mandatory)] [string] $Password
    )
    $body = @{ name = $Name; host = $Domain; password = $Password } | ConvertTo-Json -Compress
    $null = Invoke-RestMethod -Method Post -Uri (Get-ControlUri 'users') -ContentType 'application/json' -Body $body
}

function Set-SandboxCheckMark {
    <#
    Marks a stored message as deliberately bad (a test that posts raw, broken fields on purpose),
    so the judge's tally at the end of the run leaves its findings out. Id: the message's id.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)] [string] $Id,
        [Parameter(Mandatory)] [string] $Reason
    )
    process {
        $null = Invoke-RestMethod -Method Post -Uri (Get-ControlUri "checks/$([uri]::EscapeDataString($Id))/mark") -ContentType 'application/json' `
            -Body (@{ reason = $Reason } | ConvertTo-Json -Compress)
    }
}

function Get-SandboxMessage {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $User,
        [Parameter(Mandatory)] [string] $Mailbox
    )
    $box = $script:Mailboxes | Where-Object { $_ -eq $Mailbox } | Select-Object -First 1
    if (-not $box) { $box = $Mailbox }
    $dir = Join-Path (Get-SandboxEnv AOS_SANDBOX_DATA) 'mail' $User.ToLowerInvariant() $box
    if (-not (Test-Path -LiteralPath $dir)) { return }
    # Ids sort by arrival as plain text, so name order is oldest first.
    Get-ChildItem -LiteralPath $dir -Filter '*.eml' -File |
        Where-Object Name -Match '^[A-Za-z0-9._-]{1,64}\.eml$' |
        Sort-Object Name -Culture ([cultureinfo]::InvariantCulture) |
        ForEach-Object {
            [pscustomobject]@{ Id = $_.BaseName; Path = $_.FullName; Mailbox = $box; User = $User.ToLowerInvariant() }
        }
}

function Get-SandboxSpool {
    [CmdletBinding()]
    param()
    $dir = Join-Path (Get-SandboxEnv AOS_SANDBOX_DATA) 'spool'
    if (-not (Test-Path -LiteralPath $dir)) { return }
    Get-ChildItem -LiteralPath $dir -Filter '*.eml' -File |
        Where-Object Name -Match '^[A-Za-z0-9._-]{1,64}\.eml$' |
        Sort-Object Name -Culture ([cultureinfo]::InvariantCulture) |
        ForEach-Object {
            $json = Get-Content -Raw -LiteralPath ([IO.Path]::ChangeExtension($_.FullName, '.json')) | ConvertFrom-Json
            [pscustomobject]@{
                Id       = $_.BaseName
                Path     = $_.FullName
                Envelope = [pscustomobject]@{
                    From       = $json.from
                    Recipients = @($json.recipients)
                    Submitted  = $json.submitted
                }
            }
        }
}

function Get-SpooledSubject {
    # The subjects of the messages the sandbox spooled, in spool order (call Import-MimeKit first).
    @(Get-SandboxSpool | ForEach-Object { (Read-MimeMessage -Path $_.Path).Subject })
}

function Import-MimeKit {
    [CmdletBinding()]
    param()
    # The pinned NuGet package: the module's own copy is renamed (AosMail.MimeKit), out of the tests' reach.
    if ('MimeKit.MimeMessage' -as [type]) { return }
    $props = [xml](Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '../Directory.Packages.props'))
    $version = ($props.Project.ItemGroup.PackageVersion | Where-Object Include -EQ 'MimeKit').Version
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $candidates = @(foreach ($framework in 'net8.0', 'netstandard2.1', 'netstandard2.0') {
            Join-Path $packages "mimekit/$version/lib/$framework/MimeKit.dll"
        }) | Where-Object { Test-Path -LiteralPath $_ }
    if (-not $candidates) { throw "MimeKit $version was not found in the NuGet packages folder ($packages)." }
    Add-Type -LiteralPath @($candidates)[0]
}

function Read-MimeMessage {
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipelineByPropertyName)] [string] $Path)
    begin { Import-MimeKit }
    process {
        $stream = [IO.File]::OpenRead($Path)
        try { [MimeKit.MimeMessage]::Load($stream) } finally { $stream.Dispose() }
    }
}

function New-TestCredential {
    [CmdletBinding()]
    [OutputType([pscredential])]
    param(
        [string] $UserName = (Get-SandboxEnv AOS_SANDBOX_USER),
        [string] $Password = (Get-SandboxEnv AOS_SANDBOX_PASSWORD)
    )
    [pscredential]::new($UserName, (ConvertTo-SecureString -String $Password -AsPlainText -Force))
}

function Get-RawHttpClient {
    param([bool] $SkipCertificateCheck)
    if (-not $script:HttpClients.ContainsKey($SkipCertificateCheck)) {
        $handler = [System.Net.Http.HttpClientHandler]::new()
        # Raw means raw: a redirect is an answer to look at, not to follow.
        $handler.AllowAutoRedirect = $false
        $handler.UseCookies = $false
        if ($SkipCertificateCheck) {
            $handler.ServerCertificateCustomValidationCallback = [System.Net.Http.HttpClientHandler]::DangerousAcceptAnyServerCertificateValidator
        }
        $client = [System.Net.Http.HttpClient]::new($handler)
        $client.Timeout = [timespan]::FromMinutes(5)
        $script:HttpClients[$SkipCertificateCheck] = $client
    }
    $script:HttpClients[$SkipCertificateCheck]
}

function New-FormPair {
    param($Name, $Value)
    [pscustomobject]@{ Name = [string]$Name; Value = [string]$Value }
}

function ConvertTo-FormPair {
    # Accepts an (ordered) dictionary, or an array of pairs: @('name','value'), name/value
    # objects or KeyValuePairs. Returns Name/Value objects in the given order.
    param($Form)
    if ($null -eq $Form) { return }
    if ($Form -is [System.Collections.IDictionary]) {
        foreach ($key in $Form.Keys) { New-FormPair $key $Form[$key] }
        return
    }
    $items = @($Form)
    # @(@('a','b')) flattens to @('a','b'): two plain strings are one pair.
    if ($items.Count -eq 2 -and $items[0] -is [string] -and $items[1] -isnot [array] -and
        ($items[1] -is [string] -or $items[1] -is [ValueType])) {
        New-FormPair $items[0] $items[1]
        return
    }
    foreach ($item in $items) {
        if ($item -is [array] -and $item.Count -eq 2) { New-FormPair $item[0] $item[1] }
        elseif ($item -is [System.Collections.IDictionary]) { foreach ($key in $item.Keys) { New-FormPair $key $item[$key] } }
        elseif ($item.PSObject.Properties['Key'] -and $item.PSObject.Properties['Value']) { New-FormPair $item.Key $item.Value }
        elseif ($item.PSObject.Properties['Name'] -and $item.PSObject.Properties['Value']) { New-FormPair $item.Name $item.Value }
        else { throw "Cannot read a form field from '$item': give @('name', 'value'), a name/value object or an ordered dictionary." }
    }
}

function ConvertTo-FormBody {
    param($Form)
    $parts = foreach ($pair in ConvertTo-FormPair $Form) {
        [uri]::EscapeDataString($pair.Name) + '=' + [uri]::EscapeDataString($pair.Value)
    }
    @($parts) -join '&'
}

function Invoke-AosRaw {
    <#
    .SYNOPSIS
        Sends one raw request to the sandbox and returns StatusCode, Body (UTF-8 text), Bytes,
        ContentType and Location, whatever the status. A dropped connection throws.
    .EXAMPLE
        Invoke-AosRaw -Path st.login.mms -Form ([ordered]@{ api = 'lc'; name = 'demo'; pswd = 'x' })
    .EXAMPLE
        Invoke-AosRaw -Path "$sid.sdmailact.mail.mms" -Form @(@('api', 'lc'), @('mheader', 'X-A: 1'), @('mheader', 'X-B: 2'))
    #>
    [CmdletBinding()]
    param(
        # The command path after the base, e.g. 'st.login.mms' or "$sid.openbox.mbox.mms".
        [Parameter(Mandatory)] [string] $Path,
        $Form,
        [ValidateSet('POST', 'GET')] [string] $Method = 'POST',
        [string] $BaseUri = (Get-SandboxEnv AOS_SANDBOX_URI),
        # A body sent as it is instead of -Form (string or byte[]).
        $Body,
        [string] $ContentType = 'application/x-www-form-urlencoded; charset=utf-8',
        [switch] $SkipCertificateCheck
    )
    $uri = $BaseUri.TrimEnd('/') + '/' + $Path.TrimStart('/')
    $encoded = ConvertTo-FormBody $Form
    if ($Method -eq 'GET') {
        if ($encoded) { $uri += '?' + $encoded }
        $request = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::Get, $uri)
    }
    else {
        $request = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::Post, $uri)
        # Plain assignments: a byte[] returned from an if block would go through the pipeline
        # one byte at a time, which takes half a minute for 50 MB.
        if ($Body -is [byte[]]) { $bytes = $Body }
        elseif ($null -ne $Body) { $bytes = [Text.Encoding]::UTF8.GetBytes([string]$Body) }
        else { $bytes = [Text.Encoding]::UTF8.GetBytes($encoded) }
        $request.Content = [System.Net.Http.ByteArrayContent]::new($bytes)
        if ($ContentType) { $request.Content.Headers.ContentType = [System.Net.Http.Headers.MediaTypeHeaderValue]::Parse($ContentType) }
    }
    try {
        $client = Get-RawHttpClient -SkipCertificateCheck $SkipCertificateCheck.IsPresent
        $response = $client.SendAsync($request).GetAwaiter().GetResult()
        try {
            $data = $response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult()
            [pscustomobject]@{
                StatusCode  = [int]$response.StatusCode
                Body        = [Text.Encoding]::UTF8.GetString($data)
                Bytes       = $data
                ContentType = [string]$response.Content.Headers.ContentType
                Location    = if ($response.Headers.Location) { [string]$response.Headers.Location } else { $null }
            }
        }
        finally { $response.Dispose() }
    }
    finally { $request.Dispose() }
}

function Invoke-RawLogin {
    <#
    .SYNOPSIS
        Logs in with a raw request (no module) and returns the session id; throws when the login fails.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [string] $UserName = (Get-SandboxEnv AOS_SANDBOX_USER),
        [string] $Password = (Get-SandboxEnv AOS_SANDBOX_PASSWORD),
        [string] $BaseUri = (Get-SandboxEnv AOS_SANDBOX_URI)
    )
    $answer = Invoke-AosRaw -BaseUri $BaseUri -Path 'st.login.mms' -Form ([ordered]@{ api = 'lc'; name = $UserName; pswd = $Password })
    if ($answer.StatusCode -ne 200 -or $answer.Body -notmatch '^SID[A-Za-z0-9]{17}$') {
        throw "Sandbox login as $UserName failed: $($answer.StatusCode) $($answer.Body)"
    }
    $answer.Body
}

function New-TestSession {
    <#
    .SYNOPSIS
        Logs in to the http sandbox through the module (New-AosSession), as the demo user unless
        another account is named; the new session becomes the default. Throws when the login fails.
        The suites' one way to log in when the login itself is not what they test.
    #>
    [CmdletBinding()]
    param(
        [string] $UserName = (Get-SandboxEnv AOS_SANDBOX_USER),
        [string] $Password = (Get-SandboxEnv AOS_SANDBOX_PASSWORD),
        # Passed on only when given, so New-AosSession's own defaults hold otherwise.
        [int] $TimeoutSec,
        [string] $DraftMailbox
    )
    $options = @{}
    if ($PSBoundParameters.ContainsKey('TimeoutSec')) { $options.TimeoutSec = $TimeoutSec }
    if ($DraftMailbox) { $options.DraftMailbox = $DraftMailbox }
    New-AosSession -Server (Get-SandboxEnv AOS_SANDBOX_URI).TrimEnd('/') -Credential (New-TestCredential -UserName $UserName -Password $Password) `
        -AllowUnencryptedAuthentication -ErrorAction Stop @options
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

function Get-OnlySend {
    # The one sdmailact request of this test.
    $sends = @(Get-SandboxRequest -Command sdmailact)
    $sends.Count | Should -Be 1 -Because 'exactly one sdmailact request was made'
    $sends[0].Method | Should -BeExactly 'POST'
    $sends[0].Path | Should -BeExactly '/<SID>.sdmailact.mail.mms'
    $sends[0].ContentType | Should -Match '^application/x-www-form-urlencoded; ?charset=utf-8$'
    $sends[0]
}

function Get-OnlyMessage {
    # The one message in a user's mailbox, parsed.
    param([string] $User, [string] $Mailbox = 'Inbox')
    $items = @(Get-SandboxMessage -User $User -Mailbox $Mailbox)
    $items.Count | Should -Be 1 -Because "exactly one message is in $User's $Mailbox"
    Read-MimeMessage -Path $items[0].Path
}

function Get-OnlySpool {
    $items = @(Get-SandboxSpool)
    $items.Count | Should -Be 1 -Because 'exactly one message was spooled'
    $items[0]
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

function Invoke-WhileFileChanges {
    <#
    Invoke-Captured of $Send, a one-shot send (-Server/-Credential: its message is prepared before
    its login), while the sandbox holds that login for 2 s; meanwhile a thread job runs $Change
    (param($path)) on $Path once the login is in, so the file changes after the message was
    prepared and before it is uploaded.
    #>
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [scriptblock] $Change, [Parameter(Mandatory)] [scriptblock] $Send)
    Add-SandboxFault -Command login -Action delay -DelayMs 2000
    Clear-SandboxRequest
    $ready = Join-Path ([IO.Path]::GetTempPath()) ('aos-ready-' + [guid]::NewGuid().ToString('n'))
    $job = Start-ThreadJob -ArgumentList $Path, "$Change", (Join-Path $PSScriptRoot TestHelpers.psm1), $env:AOS_SANDBOX_URI, $ready -ScriptBlock {
        param($path, $change, $helpers, $uri, $ready)
        $env:AOS_SANDBOX_URI = $uri
        Import-Module $helpers
        $null = New-Item -ItemType File -Path $ready
        # Once the login is in (and held), the message has been prepared: change the file now.
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while (-not @(Get-SandboxRequest -Command login).Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        & ([scriptblock]::Create($change)) $path
    }
    try {
        # The job must be watching before the send starts: its start can take longer than the 2 s hold.
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Test-Path -LiteralPath $ready) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        Invoke-Captured $Send
    }
    finally {
        $job | Wait-Job | Remove-Job
        Remove-Item -LiteralPath $ready -ErrorAction Ignore
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

Export-ModuleMember -Function Get-TestSandbox, Reset-Sandbox, Get-SandboxRequest, Clear-SandboxRequest,
    Add-SandboxFault, Clear-SandboxFault, Set-SandboxOption, Add-SandboxUser, Get-SandboxMessage,
    Get-SandboxSpool, Get-SpooledSubject, Import-MimeKit, Read-MimeMessage, New-TestCredential, Invoke-AosRaw, Invoke-RawLogin,
    New-TestSession, Format-FieldList, Assert-FieldList, Get-OnlySend, Get-OnlyMessage, Get-OnlySpool,
    Invoke-Captured, Assert-OneError, Get-ErrorId, New-RandomFile, Get-PartBytes, Get-MessageBodyText,
    Get-MessageHeaderText, Get-FreeLocalPort, Invoke-ChildPwsh, Start-TestProxy, Stop-TestProxy, Set-SandboxCheckMark,
    Invoke-WhileFileChanges
