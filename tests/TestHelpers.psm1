# Helpers for Pester tests that run against the AOS sandbox started by build.ps1 Test.
# Everything reads the running sandbox from the environment build.ps1 sets:
#   AOS_SANDBOX_URI, AOS_SANDBOX_HTTPS_URI, AOS_SANDBOX_DATA, AOS_SANDBOX_USER,
#   AOS_SANDBOX_PASSWORD, AOS_TEST_MODULE, AOS_SANDBOX_DLL
# The control API (/_sandbox/...) is described in docs/sandbox.md.

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
    param()
    $null = Invoke-RestMethod -Method Post -Uri (Get-ControlUri 'reset')
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
        [ValidateSet('delay', 'status', 'text', 'expire', 'dropBefore', 'dropAfter', 'redirect', 'stall', 'trickle', 'dropMidAnswer')]
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
        # Slow reading: request bodies are read at most this fast (0: as fast as they come).
        [ValidateRange(0, [long]::MaxValue)] [long] $ReadBytesPerSecond
    )
    $body = @{}
    if ($PSBoundParameters.ContainsKey('LatencyMs')) { $body.latencyMs = $LatencyMs }
    if ($PSBoundParameters.ContainsKey('ReadBytesPerSecond')) { $body.readBytesPerSecond = $ReadBytesPerSecond }
    if ($PSBoundParameters.ContainsKey('IdleSeconds')) { $body.idleSeconds = $IdleSeconds }
    if ($PSBoundParameters.ContainsKey('LegacyOpenbox')) { $body.legacyOpenbox = $LegacyOpenbox }
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

function Import-MimeKit {
    [CmdletBinding()]
    param()
    # The module folder's MimeKit first (the one the module ships), else the pinned NuGet package.
    if ('MimeKit.MimeMessage' -as [type]) { return }
    $candidates = @()
    if ($env:AOS_TEST_MODULE) {
        $candidates += @(Get-ChildItem -LiteralPath (Split-Path $env:AOS_TEST_MODULE) -Filter 'MimeKit.dll' -File -Recurse -ErrorAction Ignore |
                Select-Object -ExpandProperty FullName)
    }
    if (-not $candidates) {
        $props = [xml](Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '../Directory.Packages.props'))
        $version = ($props.Project.ItemGroup.PackageVersion | Where-Object Include -EQ 'MimeKit').Version
        $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
        foreach ($framework in 'net8.0', 'netstandard2.1', 'netstandard2.0') {
            $candidates += Join-Path $packages "mimekit/$version/lib/$framework/MimeKit.dll"
        }
        $candidates = @($candidates | Where-Object { Test-Path -LiteralPath $_ })
    }
    if (-not $candidates) { throw 'MimeKit.dll was found neither in the built module folder nor in the NuGet packages folder.' }
    Add-Type -LiteralPath $candidates[0]
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

function New-SandboxSession {
    <#
    .SYNOPSIS
        Logs in with a raw request and returns the session id; throws when the login fails.
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

Export-ModuleMember -Function Get-TestSandbox, Reset-Sandbox, Get-SandboxRequest, Clear-SandboxRequest,
    Add-SandboxFault, Clear-SandboxFault, Set-SandboxOption, Add-SandboxUser, Get-SandboxMessage,
    Get-SandboxSpool, Import-MimeKit, Read-MimeMessage, New-TestCredential, Invoke-AosRaw, New-SandboxSession
