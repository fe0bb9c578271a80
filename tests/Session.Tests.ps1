# New-AosSession through the built module against the sandbox: the login on the wire (B3),
# the session object, the default session and -Session, transport security (B16).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'New-AosSession and sessions' {
    BeforeEach {
        Reset-Sandbox
    }

    Describe 'New-AosSession: the login request' {
        It 'posts api, name, host, pswd in that order, form-encoded, with nothing in the URL' {
            $null = New-TestSession
            $logins = @(Get-SandboxRequest -Command login)
            $logins.Count | Should -Be 1
            $login = $logins[0]
            $login.Method | Should -BeExactly 'POST'
            $login.Path | Should -BeExactly '/st.login.mms'
            $login.HasSid | Should -BeFalse
            $login.ContentType | Should -Match '^application/x-www-form-urlencoded; ?charset=utf-8$'
            Assert-FieldList $login @(@('api', 'lc'), @('name', 'demo'), @('host', 'sandbox.test'), @('pswd', '<masked>'))
            # The password holds & = % +: only a correctly encoded form arrives at its true length.
            ($login.Fields | Where-Object Name -EQ 'pswd').Length | Should -Be $Sandbox.DemoPassword.Length
            $login.Status | Should -Be 200
            # One request in all: no probing, no retry.
            @(Get-SandboxRequest).Count | Should -Be 1
        }

        It 'takes host from -Domain when the user name has no @' {
            $cred = New-TestCredential -UserName 'alice' -Password 'Alice-Passw0rd'
            $session = New-AosSession -Server $Sandbox.BaseUri -Credential $cred -Domain 'sandbox.test' -AllowUnencryptedAuthentication
            Assert-FieldList (Get-SandboxRequest -Command login)[0] @(@('api', 'lc'), @('name', 'alice'), @('host', 'sandbox.test'), @('pswd', '<masked>'))
            $session.UserName | Should -BeExactly 'alice@sandbox.test'
            $session.Domain | Should -BeExactly 'sandbox.test'
        }

        It 'takes host from the part after the last @ of the user name' {
            Add-SandboxUser -Name 'carol' -Domain 'other.test' -Password 'Carol-Passw0rd'
            $cred = New-TestCredential -UserName 'carol@other.test' -Password 'Carol-Passw0rd'
            $session = New-AosSession -Server $Sandbox.BaseUri -Credential $cred -AllowUnencryptedAuthentication
            Assert-FieldList (Get-SandboxRequest -Command login)[0] @(@('api', 'lc'), @('name', 'carol'), @('host', 'other.test'), @('pswd', '<masked>'))
            $session.UserName | Should -BeExactly 'carol@other.test'
            $session.Domain | Should -BeExactly 'other.test'
        }

        It 'sends name alone (no host field) for a bare name without -Domain' {
            $cred = New-TestCredential -UserName 'demo' -Password $Sandbox.DemoPassword
            $session = New-AosSession -Server $Sandbox.BaseUri -Credential $cred -AllowUnencryptedAuthentication
            $logins = @(Get-SandboxRequest -Command login)
            $logins.Count | Should -Be 1
            Assert-FieldList $logins[0] @(@('api', 'lc'), @('name', 'demo'), @('pswd', '<masked>'))
            # The sandbox takes a bare name as a user of its own domain.
            $session.UserName | Should -BeExactly 'demo'
            $session.Domain | Should -BeNullOrEmpty
            Send-AosMessage -Session $session -To 'alice@sandbox.test' -Subject 'bare'
            @(Get-SandboxSpool)[0].Envelope.From | Should -BeExactly 'demo@sandbox.test'
        }
    }

    Describe 'New-AosSession: the session object' {
        It 'returns an AosSession with exactly the documented properties and no secret' {
            $before = Get-Date
            $session = New-TestSession
            $after = Get-Date
            $session | Should -BeOfType ([AosMail.AosSession])
            @($session.PSObject.Properties.Name | Sort-Object) |
                Should -Be @('Created', 'Domain', 'DraftMailbox', 'Id', 'LastUsed', 'OutboxMailbox', 'Proxy', 'Server', 'UserName')
            $session.Id | Should -BeOfType ([int])
            $session.Id | Should -BeGreaterThan 0
            $session.Server | Should -BeOfType ([uri])
            $session.Server.AbsoluteUri.TrimEnd('/') | Should -BeExactly $Sandbox.BaseUri
            $session.UserName | Should -BeExactly 'demo@sandbox.test'
            $session.Domain | Should -BeExactly 'sandbox.test'
            $session.Created | Should -BeOfType ([datetime])
            $session.Created | Should -BeGreaterOrEqual $before.AddSeconds(-1)
            $session.Created | Should -BeLessOrEqual $after.AddSeconds(1)
            $session.LastUsed | Should -BeGreaterOrEqual $session.Created
            $session.DraftMailbox | Should -BeExactly 'Draft'
            $session.OutboxMailbox | Should -BeExactly 'Outbox'
            $session.ToString() | Should -BeExactly "demo@sandbox.test at $($session.Server)"
        }

        It 'moves LastUsed on when the session is used' {
            $session = New-TestSession
            $created = $session.Created
            $first = $session.LastUsed
            Start-Sleep -Milliseconds 1100
            Send-AosMessage -Session $session -To 'alice@sandbox.test' -Subject 'touch'
            $session.LastUsed | Should -BeGreaterThan $first.AddMilliseconds(900)
            $session.Created | Should -Be $created
        }

        It 'keeps -DraftMailbox and -OutboxMailbox' {
            $session = New-AosSession -Server $Sandbox.BaseUri -Credential (New-TestCredential) -AllowUnencryptedAuthentication -DraftMailbox 'Drafts' -OutboxMailbox 'Sent'
            $session.DraftMailbox | Should -BeExactly 'Drafts'
            $session.OutboxMailbox | Should -BeExactly 'Sent'
        }

        It 'numbers sessions in order' {
            $a = New-TestSession
            $b = New-TestSession
            $b.Id | Should -Be ($a.Id + 1)
            @(Get-SandboxRequest -Command login).Count | Should -Be 2
        }
    }

    Describe 'The default session and -Session' {
        It 'sends with the newest session by default and with the named one under -Session' {
            $demo = New-TestSession
            $alice = New-TestSession -UserName 'alice@sandbox.test' -Password 'Alice-Passw0rd'

            Send-AosMessage -To 'bob@sandbox.test' -Subject 'via default' -Body 'x'
            Send-AosMessage -Session $demo -To 'bob@sandbox.test' -Subject 'via demo' -Body 'x'
            Send-AosMessage -Session $alice -To 'bob@sandbox.test' -Subject 'via alice' -Body 'x'

            $spool = @(Get-SandboxSpool)
            $spool.Count | Should -Be 3
            $bySubject = @{}
            foreach ($item in $spool) { $bySubject[(Read-MimeMessage -Path $item.Path).Subject] = $item }
            $bySubject['via default'].Envelope.From | Should -BeExactly 'alice@sandbox.test'
            $bySubject['via demo'].Envelope.From | Should -BeExactly 'demo@sandbox.test'
            $bySubject['via alice'].Envelope.From | Should -BeExactly 'alice@sandbox.test'
            @((Read-MimeMessage -Path $bySubject['via demo'].Path).From.Mailboxes)[0].Address | Should -BeExactly 'demo@sandbox.test'
            @((Read-MimeMessage -Path $bySubject['via default'].Path).From.Mailboxes)[0].Address | Should -BeExactly 'alice@sandbox.test'
            # Two logins, three sends, and no login hidden in any send.
            @(Get-SandboxRequest -Command login).Count | Should -Be 2
            @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 3
        }

        It 'fails with AosNoSession in a new process that has no session (and makes no request)' {
            $module = $env:AOS_TEST_MODULE
            $command = @"
    `$ErrorActionPreference = 'Stop'
    Import-Module '$module'
    try { Send-AosMessage -To 'alice@sandbox.test' -Subject 'no session' -Body 'x'; 'NO ERROR' }
    catch { 'ID=' + `$_.FullyQualifiedErrorId; 'CAT=' + `$_.CategoryInfo.Category; 'MSG=' + `$_.Exception.Message }
"@
            $lines = @(Invoke-ChildPwsh -Command $command | ForEach-Object { "$_" })
            $lines | Should -Contain 'ID=AosNoSession,AosMail.Commands.SendAosMessageCommand'
            $lines | Should -Contain 'CAT=InvalidOperation'
            ($lines | Where-Object { $_ -like 'MSG=*New-AosSession*' }) | Should -Not -BeNullOrEmpty
            @(Get-SandboxRequest).Count | Should -Be 0
        }
    }

    Describe 'Transport security' {
        It 'refuses http without -AllowUnencryptedAuthentication, before any request' {
            $result = Invoke-Captured { New-AosSession -Server $Sandbox.BaseUri -Credential (New-TestCredential) }
            $result.Output.Count | Should -Be 0
            Assert-OneError $result -ErrorId AosUnencryptedRefused -Category SecurityError -MessageLike '*AllowUnencryptedAuthentication*'
            $result.Requests.Count | Should -Be 0
        }

        It 'logs in over https with -SkipCertificateCheck, and warns' {
            $https = (Get-TestSandbox).HttpsBaseUri
            "$https" | Should -Match '^https://' -Because 'build.ps1 Test must start the sandbox with an https listener'
            $result = Invoke-Captured { New-AosSession -Server $https -Credential (New-TestCredential) -SkipCertificateCheck }
            $result.Errors.Count | Should -Be 0
            $result.Output.Count | Should -Be 1
            $result.Output[0].UserName | Should -BeExactly 'demo@sandbox.test'
            # One warning for the check that is off (another may say the default account changed: an earlier test's session was alice's).
            @($result.Warnings | Where-Object { "$_" -like '*SkipCertificateCheck*' }).Count | Should -Be 1
            @($result.Warnings | Where-Object { "$_" -notlike '*SkipCertificateCheck*' -and "$_" -notlike '*is now the default session*' }).Count | Should -Be 0
            @(Get-SandboxRequest -Command login).Count | Should -Be 1
            # And the session works.
            Send-AosMessage -Session $result.Output[0] -To 'alice@sandbox.test' -Subject 'over tls' -Body 'x'
            @(Get-SandboxSpool).Count | Should -Be 1
        }

        It 'fails with AosConnectionFailed (SecurityError) on the self-signed certificate without -SkipCertificateCheck' {
            $https = (Get-TestSandbox).HttpsBaseUri
            "$https" | Should -Match '^https://'
            $result = Invoke-Captured { New-AosSession -Server $https -Credential (New-TestCredential) }
            $result.Output.Count | Should -Be 0
            Assert-OneError $result -ErrorId AosConnectionFailed -Category SecurityError -MessageLike '*TLS*-SkipCertificateCheck*'
            $result.Warnings.Count | Should -Be 0
            # The TLS handshake failed, so no request reached the sandbox's HTTP layer.
            @(Get-SandboxRequest -Command login).Count | Should -Be 0
        }
    }
}
