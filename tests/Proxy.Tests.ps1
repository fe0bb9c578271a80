# -Proxy, -ProxyCredential and -ProxyUseDefaultCredentials (named and behaving as
# Invoke-RestMethod's), through a forward proxy the tests start on 127.0.0.1 (tests/TestProxy.cs):
# the proxy must see every request the sandbox gets, with the proxy's Basic credential, and
# never a password in a URL. Without -Proxy, the system's default proxy is used.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Http = $Sandbox.BaseUri
    $script:Https = (Get-TestSandbox).HttpsBaseUri
    $script:ProxyPassword = 'Pr0xy&Secret=1 %'
    $script:ProxyCredential = [pscredential]::new('proxy-user', (ConvertTo-SecureString -String $ProxyPassword -AsPlainText -Force))
    $script:Expected = 'Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("proxy-user:$ProxyPassword"))
    $script:Secrets = @($env:AOS_SANDBOX_PASSWORD, $ProxyPassword) | ForEach-Object { $_; [uri]::EscapeDataString($_) }
    $script:Guarded = Start-TestProxy -Credential $ProxyCredential
    $script:Open = Start-TestProxy

    function Get-ProxyRequest {
        param($Proxy)
        @($Proxy.Requests.ToArray())
    }

    function Assert-NoSecretIn {
        param([string[]] $Text)
        foreach ($line in $Text) {
            foreach ($secret in $Secrets) { $line | Should -Not -BeLike "*$([WildcardPattern]::Escape($secret))*" }
        }
    }
}

AfterAll {
    $Guarded, $Open | Stop-TestProxy
}

Describe 'Proxies' {
    BeforeEach {
        Reset-Sandbox
        Get-AosSession | Remove-AosSession
        $Guarded.Requests.Clear()
        $Open.Requests.Clear()
    }

    It 'sends every request of a session through -Proxy with the -ProxyCredential (Basic), and no password in any URL' {
        $log = Join-Path $TestDrive 'verbose.txt'
        $report = New-RandomFile -Path (Join-Path $TestDrive 'report.bin') -Size 5000
        & {
            $session = New-AosSession -Server $Http -Credential (New-TestCredential) -AllowUnencryptedAuthentication -Proxy $Guarded.Uri -ProxyCredential $ProxyCredential
            $session.Proxy | Should -Be $Guarded.Uri
            Send-AosMessage -To alice@sandbox.test -Subject 'through the proxy' -Body 'x' -Attachments $report.FullName
            $draft = Save-AosDraft -Subject 'draft through the proxy' -Body 'y'
            $draft.DraftId | Should -Not -BeNullOrEmpty
            $null = Get-AosMessage -Mailbox Draft -Id $draft.DraftId
            Test-AosSession | Should -BeTrue
        } -Verbose 4>&1 | Out-String | Set-Content -LiteralPath $log

        $seen = Get-SandboxRequest
        $seen.Count | Should -BeGreaterThan 6
        $through = @(Get-ProxyRequest $Guarded | Where-Object Status -NE 407)
        # Every request the sandbox got came through the proxy, with the proxy's credential ...
        @($through | ForEach-Object { ([uri]$_.Target).AbsolutePath -replace '^/SID[A-Za-z0-9]+\.', '/<SID>.' }) | Should -Be @($seen.Path)
        foreach ($request in $through) {
            $request.Method | Should -Be 'POST'
            $request.ProxyAuthorization | Should -BeExactly $Expected
            $request.Status | Should -Be 200
        }
        # ... given after the proxy asked for it (407), never to anyone else: the sandbox got no Proxy-Authorization.
        @(Get-ProxyRequest $Guarded | Where-Object Status -EQ 407 | Where-Object ProxyAuthorization).Count | Should -Be 0
        (Get-SandboxMessage -User alice@sandbox.test -Mailbox Inbox).Count | Should -Be 1
        Assert-NoSecretIn (Get-ProxyRequest $Guarded).Target
        Assert-NoSecretIn (Get-Content -Raw -LiteralPath $log)
    }

    It 'tunnels the one-shot form over https through the proxy (CONNECT), with the credential' {
        $result = Invoke-Captured {
            Send-AosMessage -Server $Https -Credential (New-TestCredential) -SkipCertificateCheck -Proxy $Guarded.Uri -ProxyCredential $ProxyCredential `
                -To alice@sandbox.test -Subject 'tls through the proxy' -Body 'x'
        }
        $result.Errors.Count | Should -Be 0 -Because ($result.Errors | Out-String)
        @($result.Requests.Command) | Should -Be @('login', 'sdmailact')
        $through = @(Get-ProxyRequest $Guarded | Where-Object Status -NE 407)
        $through.Count | Should -BeGreaterThan 0
        foreach ($request in $through) {
            $request.Method | Should -Be 'CONNECT'
            $request.Target | Should -BeExactly ([uri]$Https).Authority
            $request.ProxyAuthorization | Should -BeExactly $Expected
        }
        Assert-NoSecretIn (Get-ProxyRequest $Guarded).Target
    }

    It 'fails the login clearly when the proxy wants a credential it did not get; the AOS server sees nothing' {
        $result = Invoke-Captured { New-AosSession -Server $Http -Credential (New-TestCredential) -AllowUnencryptedAuthentication -Proxy $Guarded.Uri }
        Assert-OneError $result -ErrorId AosLoginFailed -Category AuthenticationError -MessageLike '*proxy*407*-ProxyCredential*'
        $result.Requests.Count | Should -Be 0
        @(Get-ProxyRequest $Guarded).Count | Should -BeGreaterThan 0
        @(Get-ProxyRequest $Guarded | Where-Object Status -NE 407).Count | Should -Be 0
    }

    It 'sends through a proxy that wants no credential with -ProxyUseDefaultCredentials (none to give here), for every cmdlet with the one-shot form' {
        $oneShot = @{ Server = $Http; Credential = (New-TestCredential); AllowUnencryptedAuthentication = $true; Proxy = $Open.Uri; ProxyUseDefaultCredentials = $true }
        Send-AosMessage @oneShot -To alice@sandbox.test -Subject 'default credentials'
        $null = Get-AosMailbox @oneShot
        $null = Get-AosMessage @oneShot -Mailbox Inbox
        $seen = Get-SandboxRequest
        @(Get-ProxyRequest $Open).Count | Should -Be $seen.Count
        @(Get-ProxyRequest $Open | Where-Object ProxyAuthorization).Count | Should -Be 0
        @($seen.Command) | Should -Be @('login', 'sdmailact', 'login', 'mboxtable', 'login', 'openbox')
    }

    It 'uses the system''s default proxy (HTTP_PROXY here) when no -Proxy is given' {
        $saved = $env:HTTP_PROXY, $env:NO_PROXY
        $env:HTTP_PROXY = $Open.Uri.AbsoluteUri
        $env:NO_PROXY = $null
        try {
            $output = Invoke-ChildPwsh -Command @"
Import-Module '$env:AOS_TEST_MODULE'
`$credential = [pscredential]::new('$env:AOS_SANDBOX_USER', (ConvertTo-SecureString -String '$($env:AOS_SANDBOX_PASSWORD.Replace("'", "''"))' -AsPlainText -Force))
Send-AosMessage -Server '$Http' -Credential `$credential -AllowUnencryptedAuthentication -To alice@sandbox.test -Subject 'default proxy' -ErrorAction Stop
'sent'
"@
        }
        finally {
            $env:HTTP_PROXY, $env:NO_PROXY = $saved
        }
        $output | Should -Contain 'sent'
        @((Get-ProxyRequest $Open).Target | ForEach-Object { ([uri]$_).AbsolutePath -replace '^/SID[A-Za-z0-9]+\.', '/<SID>.' }) |
            Should -Be @('/st.login.mms', '/<SID>.sdmailact.mail.mms')
    }

    It 'refuses <Case> before any request (<ErrorId>), showing no password' -ForEach @(
        @{ Case = '-ProxyCredential without -Proxy'; Extra = @{ ProxyCredential = 'cred' }; ErrorId = 'AosConflictingParameters'; Like = '*-ProxyCredential*-Proxy*' }
        @{ Case = '-ProxyUseDefaultCredentials without -Proxy'; Extra = @{ ProxyUseDefaultCredentials = $true }; ErrorId = 'AosConflictingParameters'; Like = '*-ProxyUseDefaultCredentials*-Proxy*' }
        @{ Case = 'both proxy credentials'; Extra = @{ Proxy = 'proxy'; ProxyCredential = 'cred'; ProxyUseDefaultCredentials = $true }; ErrorId = 'AosConflictingParameters'; Like = '*cannot be used together*' }
        @{ Case = 'a password in the proxy URI'; Extra = @{ Proxy = 'withpassword' }; ErrorId = 'AosInvalidProxy'; Like = '*-ProxyCredential*' }
        @{ Case = 'a proxy URI of another scheme'; Extra = @{ Proxy = [uri]'ftp://127.0.0.1:21' }; ErrorId = 'AosInvalidProxy'; Like = '*ftp://127.0.0.1:21*' }
    ) {
        $parameters = @{ Server = $Http; Credential = (New-TestCredential); AllowUnencryptedAuthentication = $true }
        foreach ($key in $Extra.Keys) {
            $parameters[$key] = switch ($Extra[$key]) {
                'cred' { $ProxyCredential }
                'proxy' { $Guarded.Uri }
                'withpassword' { [uri]"http://proxy-user:$([uri]::EscapeDataString($ProxyPassword))@127.0.0.1:$($Guarded.Uri.Port)" }
                default { $_ }
            }
        }
        foreach ($command in { New-AosSession @parameters }, { Send-AosMessage @parameters -To alice@sandbox.test -Subject 'never' }) {
            $result = Invoke-Captured $command
            Assert-OneError $result -ErrorId $ErrorId -Category InvalidArgument -MessageLike $Like
            $result.Requests.Count | Should -Be 0
            $err = $result.Errors[0]
            Assert-NoSecretIn @($err.Exception.Message, $err.ToString(), ($err | Format-List * -Force | Out-String), "$($err.TargetObject)")
        }
        @(Get-ProxyRequest $Guarded).Count | Should -Be 0
    }
}

Describe 'Proxies that cost one upload' {
    # Each body is counted as the proxy reads it: a request the proxy refused with 407 and that
    # was sent again would count twice.
    BeforeAll {
        $script:Big = New-RandomFile -Path (Join-Path $TestDrive 'big.bin') -Size 2MB
        $script:WrongCredential = [pscredential]::new('proxy-user', (ConvertTo-SecureString -String 'not-the-password' -AsPlainText -Force))
        function Get-SandboxBodyBytes { (Get-SandboxRequest | Measure-Object -Property ContentLength -Sum).Sum }
    }

    BeforeEach {
        Reset-Sandbox
        Get-AosSession | Remove-AosSession
        $Guarded.Clear()
        $Guarded.Scheme = 'Basic'
        $Guarded.RefuseAtOnce = $false
        $Guarded.SetCredential('proxy-user', $ProxyPassword)
    }

    AfterAll {
        $Guarded.Scheme = 'Basic'
        $Guarded.RefuseAtOnce = $false
        $Guarded.SetCredential('proxy-user', $ProxyPassword)
    }

    It 'sends the Basic credential from the first request, so a 2 MB attachment crosses the proxy once' {
        $session = New-AosSession -Server $Http -Credential (New-TestCredential) -AllowUnencryptedAuthentication -Proxy $Guarded.Uri -ProxyCredential $ProxyCredential
        Send-AosMessage -Session $session -To alice@sandbox.test -Subject 'one upload' -Body 'x' -Attachments $Big.FullName
        $seen = @(Get-SandboxRequest)
        @($seen.Command) | Should -Be @('login', 'sdmailact')
        $requests = @(Get-ProxyRequest $Guarded)
        @($requests.Status) | Should -Be @(200, 200)
        foreach ($request in $requests) { $request.ProxyAuthorization | Should -BeExactly $Expected }
        $Guarded.BodyBytes | Should -Be (Get-SandboxBodyBytes)
        $requests[1].BodyBytes | Should -BeGreaterThan 2MB
    }

    It 'refuses a wrong -ProxyCredential on the first try, saying the proxy refused it, when the proxy answers 407 at once' {
        $Guarded.RefuseAtOnce = $true
        $result = Invoke-Captured { New-AosSession -Server $Http -Credential (New-TestCredential) -AllowUnencryptedAuthentication -Proxy $Guarded.Uri -ProxyCredential $WrongCredential }
        Assert-OneError $result -ErrorId AosLoginFailed -Category AuthenticationError `
            -MessageLike "The proxy $($Guarded.Uri.GetLeftPart('Authority')) refused the login to $Http*(HTTP 407*the proxy refused the credential given with -ProxyCredential*Nothing reached the AOS server."
        $result.Requests.Count | Should -Be 0
        @(Get-ProxyRequest $Guarded).Count | Should -Be 1
        $result.Errors[0].Exception.Message | Should -Not -BeLike '*not-the-password*'
    }

    It 'does not send a 2 MB body again when the proxy refuses the credential with 407 after the login' {
        $session = New-AosSession -Server $Http -Credential (New-TestCredential) -AllowUnencryptedAuthentication -Proxy $Guarded.Uri -ProxyCredential $ProxyCredential
        $Guarded.SetCredential('proxy-user', 'changed-on-the-proxy')
        $Guarded.Clear()
        $result = Invoke-Captured { Send-AosMessage -Session $session -To alice@sandbox.test -Subject 'refused by the proxy' -Body 'x' -Attachments $Big.FullName }
        Assert-OneError $result -ErrorId AosServerRejected -Category AuthenticationError -MessageLike '*proxy*refused the send*the proxy refused the credential given with -ProxyCredential*'
        $result.Requests.Count | Should -Be 0
        $requests = @(Get-ProxyRequest $Guarded)
        $requests.Count | Should -Be 1
        $requests[0].Status | Should -Be 407
        $Guarded.BodyBytes | Should -Be $requests[0].BodyBytes
        $Guarded.BodyBytes | Should -BeGreaterThan 2MB
        $Guarded.BodyBytes | Should -BeLessThan 4MB
    }

    It 'learns another scheme (Digest) on the login and asks before each body, so a 2 MB attachment crosses once' {
        $Guarded.Scheme = 'Digest'
        $Guarded.RefuseAtOnce = $true
        $session = New-AosSession -Server $Http -Credential (New-TestCredential) -AllowUnencryptedAuthentication -Proxy $Guarded.Uri -ProxyCredential $ProxyCredential
        Send-AosMessage -Session $session -To alice@sandbox.test -Subject 'digest proxy' -Body 'x' -Attachments $Big.FullName
        @((Get-SandboxRequest).Command) | Should -Be @('login', 'sdmailact')
        $requests = @(Get-ProxyRequest $Guarded)
        # The login's Basic header showed the proxy wants Digest; Basic is never sent again.
        $requests[0].ProxyAuthorization | Should -BeExactly $Expected
        $requests[0].Status | Should -Be 407
        @($requests | Select-Object -Skip 1 | Where-Object { $_.ProxyAuthorization -like 'Basic *' }).Count | Should -Be 0
        $sends = @($requests | Where-Object { $_.Target -like '*.sdmailact.mail.mms' })
        foreach ($send in $sends) { $send.Expect | Should -Be '100-continue' }
        @($sends | Where-Object Status -EQ 200).Count | Should -Be 1
        @($sends | Where-Object Status -EQ 407 | Where-Object BodyBytes -GT 0).Count | Should -Be 0
        ($sends | Measure-Object -Property BodyBytes -Sum).Sum | Should -Be (Get-SandboxRequest -Command sdmailact).ContentLength
    }

    It 'names the proxy when the proxy cannot be reached' {
        $down = [uri]"http://127.0.0.1:$(Get-FreeLocalPort)"
        $result = Invoke-Captured { New-AosSession -Server $Http -Credential (New-TestCredential) -AllowUnencryptedAuthentication -Proxy $down -ProxyCredential $ProxyCredential }
        Assert-OneError $result -ErrorId AosConnectionFailed -Category ConnectionError `
            -MessageLike "Could not reach the proxy $($down.GetLeftPart('Authority')) on the way to $Http*Nothing was sent*"
        $result.Requests.Count | Should -Be 0
    }
}

Describe 'What a proxy sees of the session id' {
    BeforeEach {
        Reset-Sandbox
        Get-AosSession | Remove-AosSession
        $Open.Clear()
    }

    It 'sees it in the URL over plain http and only host:port over https, as about_AosMail_Protocol says' {
        $session = New-AosSession -Server $Http -Credential (New-TestCredential) -AllowUnencryptedAuthentication -Proxy $Open.Uri
        Send-AosMessage -Session $session -To alice@sandbox.test -Subject 'plain' -Body 'x'
        @((Get-ProxyRequest $Open).Target | Where-Object { $_ -match '^http://127\.0\.0\.1:\d+/SID[A-Za-z0-9]{17}\.sdmailact\.mail\.mms$' }).Count | Should -Be 1
        $Open.Clear()
        Send-AosMessage -Server $Https -Credential (New-TestCredential) -SkipCertificateCheck -Proxy $Open.Uri -To alice@sandbox.test -Subject 'tls' -Body 'x' 3>$null
        @((Get-ProxyRequest $Open).Target) | Should -Not -BeNullOrEmpty
        foreach ($target in (Get-ProxyRequest $Open).Target) { $target | Should -BeExactly ([uri]$Https).Authority }
        $help = (Get-Help about_AosMail_Protocol | Out-String) -replace '\s+', ' '
        $help | Should -BeLike '*Over plain*http*every proxy*sees it*POST http://host/SIDxxxx.sdmailact.mail.mms*'
        $help | Should -Not -BeLike '*no password or session id ends up in a URL, a proxy log*'
    }
}
