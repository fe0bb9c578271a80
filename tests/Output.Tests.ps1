# What scripts do with the output (issue 23): lists that export as text, times that compare right
# with Get-Date in every zone, progress records, tables that fit, and the default session.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Folder = Join-Path ([IO.Path]::GetTempPath()) ('aos-output-' + [guid]::NewGuid().ToString('n'))
    $null = New-Item -ItemType Directory -Path $Folder
}
AfterAll {
    Get-AosSession | Remove-AosSession
    if ($Folder) { Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore }
}

Describe 'Recipient and attachment lists export as text and enumerate as arrays' {
    BeforeAll {
        Reset-Sandbox
        $session = New-TestSession
        $a = Join-Path $Folder 'a.txt'; 'first' | Set-Content -LiteralPath $a
        $b = Join-Path $Folder 'b.txt'; 'second' | Set-Content -LiteralPath $b
        $result = Send-AosMessage -Session $session -To alice@sandbox.test, bob@sandbox.test -Cc carol@example.org -Subject 'List export' -Body 'Hi' `
            -Attachments $a, $b -PassThru -ErrorAction Stop
        $saved = Save-AosDraft -Session $session -To alice@sandbox.test, bob@sandbox.test -Cc carol@example.org, dave@example.org -Subject 'Draft list' -Body 'Hi' `
            -Attachments $a, $b -ErrorAction Stop
        $read = Get-AosMessage -Session $session -Mailbox Draft -Id $saved.DraftId -ErrorAction Stop
        $twoTo = 'alice@sandbox.test; bob@sandbox.test'
    }

    It 'Export-Csv writes the send result''s To, Cc, Bcc and Attachments as "a; b"' {
        $path = Join-Path $Folder 'sent.csv'
        $result | Export-Csv -LiteralPath $path -NoTypeInformation
        $row = Import-Csv -LiteralPath $path
        $row.To | Should -BeExactly $twoTo
        $row.Cc | Should -BeExactly 'carol@example.org'
        $row.Bcc | Should -BeExactly ''
        $row.Attachments | Should -BeExactly 'a.txt; b.txt'
        Get-Content -Raw -LiteralPath $path | Should -Not -Match 'System\.'
    }

    It 'ConvertTo-Csv writes the read message''s To, Cc and AttachmentNames as "a; b"' {
        $row = $read | ConvertTo-Csv -NoTypeInformation | ConvertFrom-Csv
        $row.To | Should -BeExactly $twoTo
        $row.Cc | Should -BeExactly 'carol@example.org; dave@example.org'
        $row.AttachmentNames | Should -BeExactly 'a.txt; b.txt'
    }

    It 'the default table and list views show the lists joined' {
        $table = $result | Format-Table | Out-String -Width 200
        $table | Should -Match ([regex]::Escape($twoTo))
        $table | Should -Match 'a\.txt; b\.txt'
        $list = $read | Format-List | Out-String -Width 200
        $list | Should -Match ('To\s+: ' + [regex]::Escape($twoTo))
        $list | Should -Match 'Attachments\s+: a\.txt; b\.txt'
    }

    It 'ToString gives the joined text; string expansion joins with $OFS, never a type name' {
        $result.To.ToString() | Should -BeExactly $twoTo
        "$($result.To)" | Should -BeExactly 'alice@sandbox.test bob@sandbox.test'
        "$($read.AttachmentNames)" | Should -BeExactly 'a.txt b.txt'
    }

    It 'ConvertTo-Json keeps the lists as arrays' {
        $json = $result | ConvertTo-Json -Depth 3 -WarningAction Ignore | ConvertFrom-Json
        ,$json.To | Should -BeOfType [object[]]
        $json.To | Should -Be @('alice@sandbox.test', 'bob@sandbox.test')
        $json.Attachments | Should -Be @('a.txt', 'b.txt')
        ($read | ConvertTo-Json -Depth 3 -WarningAction Ignore | ConvertFrom-Json).Cc | Should -Be @('carol@example.org', 'dave@example.org')
    }

    It 'the lists enumerate, index, count and bind like the arrays they were' {
        @($result.To).Count | Should -Be 2
        $result.To.Count | Should -Be 2
        $result.To.Length | Should -Be 2
        $result.To[1] | Should -BeExactly 'bob@sandbox.test'
        $result.To -contains 'bob@sandbox.test' | Should -BeTrue
        @($result.Bcc).Count | Should -Be 0
        ($result.To | ForEach-Object { $_.ToUpperInvariant() }) -join ',' | Should -BeExactly 'ALICE@SANDBOX.TEST,BOB@SANDBOX.TEST'
        $again = Send-AosMessage -Session $session -To $result.To -Subject 'Again' -Body 'Hi' -PassThru -ErrorAction Stop
        $again.To | Should -Be @('alice@sandbox.test', 'bob@sandbox.test')
    }
}

Describe 'Times compare right with Get-Date in every time zone' {
    BeforeAll {
        Reset-Sandbox
        $session = New-TestSession
        $token = [guid]::NewGuid().ToString('n').Substring(0, 8)
        $null = Send-AosMessage -Session $session -To $Sandbox.DemoUser -Subject "old $token" -Body 'three hours ago' -ErrorAction Stop
        # The listing's date is when the server stored the message: the sandbox gives the file's time.
        $old = Get-SandboxMessage -User $Sandbox.DemoUser -Mailbox Inbox | Select-Object -Last 1
        (Get-Item -LiteralPath $old.Path).LastWriteTimeUtc = [datetime]::UtcNow.AddHours(-3)
        $null = Send-AosMessage -Session $session -To $Sandbox.DemoUser -Subject "new $token" -Body 'just now' -ErrorAction Stop
        $childScript = @'
$ErrorActionPreference = 'Stop'
Import-Module $env:AOS_TEST_MODULE
$credential = [pscredential]::new($env:AOS_SANDBOX_USER, (ConvertTo-SecureString $env:AOS_SANDBOX_PASSWORD -AsPlainText -Force))
$session = New-AosSession -Server $env:AOS_SANDBOX_URI -Credential $credential -AllowUnencryptedAuthentication
$recent = (Get-Date).AddMinutes(-30)
$soon = (Get-Date).AddMinutes(5)
$mine = @(Get-AosMessage | Where-Object Subject -Like '* TOKEN')
'zone=' + [TimeZoneInfo]::Local.Id
'recent=' + ((@($mine | Where-Object Date -gt $recent).Subject | Sort-Object) -join ',')
'future=' + @($mine | Where-Object Date -gt $soon).Count
$new = $mine | Where-Object Subject -Like 'new *'
$message = $new | Get-AosMessage
'read=' + ($message.Date -gt $recent -and $message.Date -lt $soon)
$result = Send-AosMessage -To alice@sandbox.test -Subject 'zone' -Body 'x' -PassThru
'submitted=' + ($result.Submitted -gt $recent -and $result.Submitted -lt $soon)
'session=' + ($session.Created -gt $recent -and $session.Created -lt $soon -and $session.LastUsed -gt $recent -and $session.LastUsed -lt $soon)
'kinds=' + (($new.Date.Kind, $message.Date.Kind, $result.Submitted.Kind, $session.Created.Kind, $session.LastUsed.Kind | Select-Object -Unique) -join ',')
'@.Replace('TOKEN', $token)
    }

    It 'in <Zone>, Where-Object Date -gt (Get-Date).AddMinutes(-30) finds the new message and not the 3-hour-old one' -ForEach @(
        @{ Zone = 'Europe/Berlin' }, @{ Zone = 'America/New_York' }, @{ Zone = 'Asia/Kuala_Lumpur' }, @{ Zone = 'UTC' }
    ) {
        $saved = $env:TZ
        try {
            $env:TZ = $Zone
            $lines = Invoke-ChildPwsh -Command $childScript
        }
        finally {
            $env:TZ = $saved
        }
        $LASTEXITCODE | Should -Be 0 -Because ($lines -join "`n")
        $lines | Should -Contain "zone=$Zone"
        $lines | Should -Contain "recent=new $token"
        $lines | Should -Contain 'future=0'
        $lines | Should -Contain 'read=True'
        $lines | Should -Contain 'submitted=True'
        $lines | Should -Contain 'session=True'
        $lines | Should -Contain 'kinds=Local'
    }
}

Describe 'Progress on long work' {
    BeforeAll {
        Reset-Sandbox
        $session = New-TestSession
        $big = Join-Path $Folder 'big.bin'
        $null = New-RandomFile -Path $big -Size 6MB
        $null = Send-AosMessage -Session $session -To $Sandbox.DemoUser -Subject 'big one' -Body 'x' -Attachments $big -ErrorAction Stop
        foreach ($n in 1..3) { $null = Send-AosMessage -Session $session -To $Sandbox.DemoUser -Subject "small $n" -Body 'x' -ErrorAction Stop }
        $bigId = (Get-AosMessage -Session $session | Where-Object Subject -EQ 'big one').Id
        $bigId | Should -Not -BeNullOrEmpty

        # Another runspace of this process sees the sessions (the module's store is per process), so
        # its commands use the session logged in above; its progress stream is what a host would show.
        function Get-ProgressRecord([string] $Command, [string] $Preference = 'Continue') {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module '$($env:AOS_TEST_MODULE)'; `$ProgressPreference = '$Preference'; $Command")
                $null = $ps.Invoke()
                if ($ps.Streams.Error.Count) { throw $ps.Streams.Error[0] }
                @($ps.Streams.Progress)
            }
            finally { $ps.Dispose() }
        }
    }

    It 'Save-AosMessage shows the bytes read of a large message, under its id and file, then completes' {
        $file = Join-Path $Folder 'big.eml'
        $records = Get-ProgressRecord "Save-AosMessage -Id '$bigId' -Path '$file'"
        $read = @($records | Where-Object Activity -EQ "Saving message $bigId to $file")
        $read.Count | Should -BeGreaterThan 1
        $read[0].StatusDescription | Should -Match '^[\d.,]+ of [\d.,]+ MB read$'
        $read[0].PercentComplete | Should -BeIn (0..100)
        $read[-1].RecordType | Should -Be 'Completed'
        (Get-Item -LiteralPath $file).Length | Should -BeGreaterThan 6MB
    }

    It 'Get-AosMessage -Raw shows the bytes read, then completes' {
        $records = Get-ProgressRecord "`$null = Get-AosMessage -Id '$bigId' -Raw"
        $read = @($records | Where-Object Activity -EQ "Reading message $bigId from Inbox")
        $read.Count | Should -BeGreaterThan 1
        $read[-1].RecordType | Should -Be 'Completed'
        $read[-1].StatusDescription | Should -Match '^([\d.,]+) of \1 MB read$'
    }

    It 'saving many messages counts the messages saved, then completes' {
        $many = Join-Path $Folder 'many'
        $null = New-Item -ItemType Directory -Path $many
        $records = Get-ProgressRecord "Get-AosMessage | Where-Object Subject -Like 'small *' | Save-AosMessage -Destination '$many'"
        $saved = @($records | Where-Object Activity -EQ 'Saving messages')
        $saved.Count | Should -BeGreaterThan 1   # 2 or 3: the records are throttled in time
        $saved[0].StatusDescription | Should -Match '^2 messages saved, the last to '
        $saved[0].PercentComplete | Should -Be -1
        $saved[-1].RecordType | Should -Be 'Completed'
        @(Get-ChildItem -LiteralPath $many -Filter *.eml).Count | Should -Be 3
    }

    It 'a bulk send counts the rows done, then completes; a single send shows no count' {
        $csv = Join-Path $Folder 'rows.csv'
        1..5 | ForEach-Object { [pscustomobject]@{ To = 'alice@sandbox.test'; Subject = "row $_"; Body = 'x' } } |
            Export-Csv -LiteralPath $csv -NoTypeInformation
        $records = Get-ProgressRecord "Import-Csv -LiteralPath '$csv' | Send-AosMessage"
        $bulk = @($records | Where-Object Activity -EQ 'Sending messages')
        $bulk.Count | Should -BeGreaterThan 1
        $bulk[0].StatusDescription | Should -BeExactly '2 rows done'
        $bulk[-1].RecordType | Should -Be 'Completed'
        @(Get-ProgressRecord "Send-AosMessage -To alice@sandbox.test -Subject one -Body x").Count | Should -Be 0
    }
}

Describe 'Default tables fit 80 and 120 columns' {
    BeforeAll {
        Reset-Sandbox
        $session = New-TestSession
        $attachment = Join-Path $Folder 'report.pdf'
        'pdf' | Set-Content -LiteralPath $attachment
        $result = Send-AosMessage -Session $session -To alice@sandbox.test, bob@sandbox.test -Subject 'Q3 figures' -Body 'Hi' -Attachments $attachment -PassThru -ErrorAction Stop
        $null = Send-AosMessage -Session $session -To $Sandbox.DemoUser -Subject 'Q3 figures for you' -Body 'Hi' -ErrorAction Stop
        $views = @{
            Session = @{ Object = $session; At80 = 'Id', 'UserName', 'Server', 'Created'; At120 = 'Id', 'UserName', 'Server', 'Created', 'LastUsed' }
            Result  = @{ Object = $result; At80 = 'Action', 'To', 'Subject'; At120 = 'Action', 'To', 'Subject', 'Attachments', 'DurationMs' }
            Mailbox = @{ Object = @(Get-AosMailbox -Session $session); At80 = 'Name', 'Messages', 'Unread', 'UserName'; At120 = 'Name', 'Messages', 'Unread', 'UserName' }
            Message = @{ Object = @(Get-AosMessage -Session $session); At80 = 'Date', 'From', 'Subject', 'Size', 'Read'; At120 = 'Date', 'From', 'Subject', 'Size', 'Read', 'Id' }
        }
    }

    It '<View> at <Width> columns: one line per row, the columns <Width> keeps, no value cut' -ForEach @(
        foreach ($view in 'Session', 'Result', 'Mailbox', 'Message') { foreach ($width in 80, 120) { @{ View = $view; Width = $width } } }
    ) {
        $case = $views[$View]
        @($case.Object).Count | Should -BeGreaterThan 0
        $lines = @(($case.Object | Format-Table | Out-String -Width $Width) -split '\r?\n' | Where-Object { $_.Trim() -and $_ -notmatch '^\s*Mailbox: ' })
        $expected = if ($Width -eq 80) { $case.At80 } else { $case.At120 }
        -split $lines[0] | Should -Be $expected
        $lines[1] | Should -Match '^[\s-]+$'
        $lines.Count | Should -Be (2 + @($case.Object).Count) -Because 'a wrapped header or row takes more lines'
        foreach ($line in $lines) {
            $line.TrimEnd().Length | Should -BeLessThan $Width
            $line | Should -Not -Match '…|\.\.\.$'
        }
        if ($View -eq 'Result') { $lines[2] | Should -Match ('^Send +alice@sandbox\.test; bob@sandbox\.test +Q3 figures' + $(if ($Width -eq 120) { ' +report\.pdf +\d+' }) + ' *$') }
    }
}

Describe 'No silent switch of sender' {
    BeforeAll {
        Reset-Sandbox
        Get-AosSession | Remove-AosSession
        function Invoke-Login([string] $UserName, [string] $Password) {
            $warnings = $null
            $session = New-AosSession -Server $Sandbox.BaseUri -Credential (New-TestCredential -UserName $UserName -Password $Password) `
                -AllowUnencryptedAuthentication -ErrorAction Stop -WarningVariable warnings -WarningAction SilentlyContinue
            [pscustomobject]@{ Session = $session; Warnings = @($warnings | ForEach-Object { "$_" }) }
        }
    }

    It 'a second account that becomes the default is named in a warning, beside the account it replaces and -Session' {
        $demo = Invoke-Login $Sandbox.DemoUser $Sandbox.DemoPassword
        $demo.Warnings | Should -BeNullOrEmpty
        $bob = Invoke-Login bob@sandbox.test Bob-Passw0rd
        $bob.Warnings.Count | Should -Be 1
        $bob.Warnings[0] | Should -Match "bob@sandbox\.test"
        $bob.Warnings[0] | Should -Match ([regex]::Escape($Sandbox.DemoUser))
        $bob.Warnings[0] | Should -Match "session $($demo.Session.Id)\b"
        $bob.Warnings[0] | Should -Match '-Session'
        $bob.Warnings[0] | Should -Not -Match ([regex]::Escape($Sandbox.DemoPassword))
        (Get-AosSession -Default).UserName | Should -Be 'bob@sandbox.test'
    }

    It 'a new session of the same account warns of nothing' {
        $null = Invoke-Login bob@sandbox.test Bob-Passw0rd
        (Invoke-Login bob@sandbox.test Bob-Passw0rd).Warnings | Should -BeNullOrEmpty
    }
}

Describe 'Errors a script can catch by type' {
    BeforeAll {
        Reset-Sandbox
        $session = New-TestSession
    }
    AfterEach { Clear-SandboxFault }

    It 'catch [AosMail.AosMailException] catches a refused input, with its id, category and NothingSent' {
        $caught = $null
        try { Send-AosMessage -Session $session -To 'not-an-address' -Subject 's' -Body 'b' -ErrorAction Stop }
        catch [AosMail.AosMailException] { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.Exception | Should -BeOfType ([AosMail.AosMailException])
        $caught.Exception | Should -Not -BeOfType ([AosMail.AosOutcomeUnknownException])
        $caught.Exception.ErrorId | Should -BeExactly 'AosInvalidAddress'
        $caught.Exception.Category | Should -Be 'InvalidArgument'
        $caught.Exception.Outcome | Should -Be ([AosMail.AosOutcome]::NothingSent)
        ($caught.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly $caught.Exception.ErrorId
        @(Get-SandboxRequest -Command sdmailact).Count | Should -Be 0
    }

    It 'catch [AosMail.AosOutcomeUnknownException] catches a send that may have gone, with Outcome Unknown' {
        Add-SandboxFault -Command sdmailact -Action dropAfter
        $caught = $null
        try { Send-AosMessage -Session $session -To alice@sandbox.test -Subject 'maybe' -Body 'b' -ErrorAction Stop }
        catch [AosMail.AosOutcomeUnknownException] { $caught = $_ }
        catch { throw "caught as $($_.Exception.GetType().FullName) instead" }
        $caught.Exception.ErrorId | Should -BeExactly 'AosOutcomeUnknown'
        $caught.Exception.Category | Should -Be 'ConnectionError'
        $caught.Exception.Outcome | Should -Be ([AosMail.AosOutcome]::Unknown)
        $caught.Exception | Should -BeOfType ([AosMail.AosMailException])
    }

    It 'a fresh pwsh that only imported the module finds the types by name (catch and -is)' {
        $lines = Invoke-ChildPwsh -Command @'
Import-Module $env:AOS_TEST_MODULE
$credential = [pscredential]::new('nobody@sandbox.test', (ConvertTo-SecureString 'wrong-password' -AsPlainText -Force))
try { New-AosSession -Server $env:AOS_SANDBOX_URI -Credential $credential -AllowUnencryptedAuthentication -ErrorAction Stop; 'NO ERROR' }
catch [AosMail.AosOutcomeUnknownException] { 'WRONG CATCH' }
catch [AosMail.AosMailException] { 'CAUGHT ' + $_.Exception.ErrorId + ' ' + $_.Exception.Outcome + ' ' + ($_.Exception -is [AosMail.AosMailException]) }
catch { 'UNTYPED ' + $_.Exception.GetType().FullName + ': ' + $_ }
'@
        $LASTEXITCODE | Should -Be 0 -Because ($lines -join "`n")
        $lines | Should -Contain 'CAUGHT AosLoginFailed NothingSent True'
    }
}

Describe 'Connection parameters declared once' {
    BeforeAll {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        function Get-ParameterShape($Command, [string] $SetName) {
            foreach ($p in $Command.Parameters.Values) {
                if ($p.Name -in $common) { continue }
                $sets = @($p.ParameterSets.Keys)
                if ($SetName -and $SetName -notin $sets -and '__AllParameterSets' -notin $sets) { continue }
                $checks = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateArgumentsAttribute] -or $_ -is [System.Management.Automation.ArgumentTransformationAttribute] } |
                    ForEach-Object { $_.GetType().Name + $(if ($_ -is [System.Management.Automation.ValidateRangeAttribute]) { "($($_.MinRange)..$($_.MaxRange))" }) })
                [pscustomobject]@{ Name = $p.Name; Shape = "$($p.ParameterType.FullName) $(($checks | Sort-Object) -join ',')" }
            }
        }
        $newSession = Get-Command New-AosSession
        # What New-AosSession takes to connect: everything but what it is told of its own mailboxes (names, copies kept).
        $connection = @(Get-ParameterShape $newSession | Where-Object Name -NotIn 'DraftMailbox', 'OutboxMailbox', 'OutboxKeepsCopies' | Sort-Object Name)
        $oneShot = @(Get-Command -Module AosMail | Where-Object { $_.ParameterSets.Name -contains 'Server' -and $_.Name -ne 'New-AosSession' })
    }

    It 'New-AosSession has the nine connection parameters' {
        $connection.Name | Should -Be @('AllowUnencryptedAuthentication', 'Credential', 'Domain', 'Proxy', 'ProxyCredential', 'ProxyUseDefaultCredentials',
            'Server', 'SkipCertificateCheck', 'TimeoutSec')
    }

    It 'the one-shot set of <_> takes every connection parameter of New-AosSession, with the same type and checks' -ForEach @(
        'Send-AosMessage', 'Save-AosDraft', 'Get-AosMessage', 'Get-AosMailbox', 'Save-AosMessage'
    ) {
        $command = Get-Command $_
        $command.Name | Should -BeIn $oneShot.Name
        $shapes = @{}
        foreach ($shape in Get-ParameterShape $command 'Server') { $shapes[$shape.Name] = $shape.Shape }
        foreach ($expected in $connection) {
            $shapes[$expected.Name] | Should -BeExactly $expected.Shape -Because "-$($expected.Name) of New-AosSession"
        }
        $command.Parameters['Server'].ParameterSets['Server'].IsMandatory | Should -BeTrue
        $command.Parameters['Credential'].ParameterSets['Server'].IsMandatory | Should -BeTrue
    }

    It 'every cmdlet with a one-shot set is checked above' {
        ($oneShot.Name | Sort-Object) | Should -Be ('Get-AosMailbox', 'Get-AosMessage', 'Save-AosDraft', 'Save-AosMessage', 'Send-AosMessage')
    }
}
