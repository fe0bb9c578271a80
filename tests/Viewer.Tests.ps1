# The sandbox's mail viewer (docs/sandbox.md, "The viewer"): its JSON and content endpoints over
# HTTP, then the page itself in headless Chromium driven by Playwright for .NET. Mail sent through
# the module shows in the list, renders in the sandboxed frame with its inline image, downloads
# byte for byte and shows the request that made it; a message's scripts never run.

BeforeDiscovery {
    # The browser lane needs Chromium (build.ps1 finds it and sets AOS_CHROMIUM). Without one the
    # browser tests are skipped, and build.ps1 says so; in CI (CI=true) they run anyway and fail,
    # so CI can never pass by skipping them.
    $script:NoBrowser = -not $env:AOS_CHROMIUM -and $env:CI -ne 'true'
    if ($NoBrowser) { Write-Host 'Viewer browser tests SKIPPED: no Chromium (apt-get install chromium, or set AOS_CHROMIUM).' -ForegroundColor Yellow }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Import-MimeKit
    $script:Http = $Sandbox.BaseUri
    $script:Ui = "$Http/_sandbox/ui/"
    # A 16x16 orange PNG: the inline image.
    $script:Png = [Convert]::FromBase64String('iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mN4kSVOEmIY1TCqYfhqAAC8d2kQtF2jVQAAAABJRU5ErkJggg==')
    # Another origin than the sandbox's own (localhost, not 127.0.0.1): what a message's remote image looks like.
    $script:RemoteImage = ([uri]$Http).Port | ForEach-Object { "http://localhost:$_/remote-probe.png" }

    function Send-InlineImageMail {
        # The module has no parameter for inline (cid:) images, so this message is built with
        # MimeKit and posted as raw sdmailact fields, laid out as B9 says: MIME-Version and the top
        # Content-Type in mheader, the entity's content in body.
        param([Parameter(Mandatory)] [string] $Sid, [string] $Subject = 'Welcome aboard')
        $builder = [MimeKit.BodyBuilder]::new()
        $image = $builder.LinkedResources.Add('logo.png', $Png, [MimeKit.ContentType]::new('image', 'png'))
        $image.ContentId = 'logo@sandbox.test'
        $builder.TextBody = "Welcome aboard.`r`n"
        $builder.HtmlBody = '<h2 style="color:#0b5cad">Welcome aboard</h2>' +
            '<p id="logo-line">Our logo: <img id="logo" src="cid:logo@sandbox.test" width="48" height="48" alt="logo"></p>' +
            "<p>A remote picture: <img id=`"remote`" src=`"$RemoteImage`" width=`"20`" height=`"20`" alt=`"remote`"></p>"
        $entity = $builder.ToMessageBody()
        $format = [MimeKit.FormatOptions]::Default.Clone()
        $format.NewLineFormat = [MimeKit.NewLineFormat]::Dos
        $entity.Prepare([MimeKit.EncodingConstraint]::SevenBit)
        $stream = [IO.MemoryStream]::new()
        $entity.WriteTo($format, $stream, $true)
        $contentType = ($entity.Headers['Content-Type'] -replace '\r?\n[ \t]+', ' ').Trim()
        $form = @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', $Subject),
            @('body', [Text.Encoding]::ASCII.GetString($stream.ToArray())),
            @('mheader', "MIME-Version: 1.0`r`nContent-Type: $contentType"), @('snd', 'checked'))
        (Invoke-AosRaw -Path "$Sid.sdmailact.mail.mms" -Form $form).Body | Should -BeExactly 'OK'
    }

    function Send-ViewerMail {
        # The mail the viewer is tried on, oldest first: plain; HTML with an attachment; HTML with
        # an inline image; HTML full of script. Returns the attachment file.
        $null = New-TestSession
        Send-AosMessage -To 'alice@sandbox.test' -Subject 'Nightly job' -Body "Hello Alice,`nthe nightly job is done."
        $attachment = New-RandomFile -Path (Join-Path $TestDrive 'figures.bin') -Size 70000
        Send-AosMessage -To 'alice@sandbox.test' -Cc 'bob@sandbox.test' -Subject 'Quarterly report' -BodyAsHtml -KeepCopy `
            -Body '<h1 id="report-title">Q3 report</h1><p>The figures are attached.</p>' -Attachments $attachment.FullName
        Send-InlineImageMail -Sid (Invoke-RawLogin)
        Send-AosMessage -To 'alice@sandbox.test' -Subject $XssSubject -BodyAsHtml -Body $XssBody
        $attachment
    }

    # Every way a message could try to run script in the page, each leaving a mark if it ran.
    $script:XssSubject = '<img src=x onerror="document.title=''pwned''">Hello'
    $script:XssBody = '<p id="xss-text">Nothing to see.</p>' +
        '<script>document.body.setAttribute("data-ran", "script"); window.top.xssRan = 1; alert("script")</script>' +
        '<img id="xss-img" src="data:," onerror="document.body.setAttribute(''data-ran'', ''onerror''); alert(''onerror'')">' +
        '<svg onload="document.body.setAttribute(''data-ran'', ''svg'')"></svg>' +
        '<iframe srcdoc="<script>parent.document.body.setAttribute(''data-ran'', ''srcdoc'')</script>"></iframe>'

    function Get-Json {
        param([Parameter(Mandatory)] [string] $Path)
        # Assigned first, so that a JSON array comes out as its elements.
        $answer = Invoke-RestMethod -Uri "$Http$Path"
        $answer
    }

    function Get-Spooled {
        # The spool's list as the viewer's JSON gives it, newest first.
        @((Get-Json '/_sandbox/spool').messages)
    }
}

Describe 'The sandbox mail viewer' {
    Context 'over HTTP' {
        BeforeAll {
            Reset-Sandbox
            $script:Attachment = Send-ViewerMail
        }

        BeforeEach {
            Clear-SandboxFault
        }

        It 'is announced in the ready file and /_sandbox/info, and serves its page under a strict policy' {
            $ready = Get-Content -Raw -LiteralPath (Join-Path $Sandbox.DataPath 'sandbox-ready.json') | ConvertFrom-Json
            $ready.viewerUri | Should -BeExactly $Ui
            (Get-Json '/_sandbox/info').viewerUri | Should -BeExactly $Ui
            $page = Invoke-WebRequest -Uri $Ui
            $page.Content | Should -BeLike '*<script src="viewer.js" defer></script>*'
            $policy = [string]$page.Headers['Content-Security-Policy']
            $policy | Should -BeLike "*script-src 'self';*"
            $policy | Should -Not -BeLike '*unsafe-inline*'
            [string]$page.Headers['X-Content-Type-Options'] | Should -BeExactly 'nosniff'
            (Invoke-WebRequest -Uri "$($Ui)viewer.js").Content | Should -BeLike '*textContent*'
        }

        It 'lists accounts with their mailboxes and counts, and the spool' {
            $tree = Get-Json '/_sandbox/mail'
            $tree.accounts | ForEach-Object address | Should -Be @('alice@sandbox.test', 'bob@sandbox.test', 'demo@sandbox.test')
            $alice = $tree.accounts | Where-Object address -EQ 'alice@sandbox.test'
            $alice.mailboxes.name | Should -Be @('Inbox', 'Draft', 'Outbox')
            ($alice.mailboxes | Where-Object name -EQ Inbox).count | Should -Be 4
            ($alice.mailboxes | Where-Object name -EQ Inbox).unread | Should -Be 4
            (($tree.accounts | Where-Object address -EQ 'demo@sandbox.test').mailboxes | Where-Object name -EQ Outbox).count | Should -Be 1
            $tree.spool.count | Should -Be 4
            $tree.spool.url | Should -BeExactly '/_sandbox/spool'
        }

        It 'lists a folder newest first with from, to, subject, size, attachments and read flag' {
            $list = Get-Json '/_sandbox/mail/alice%40sandbox.test/Inbox'
            $list.total | Should -Be 4
            $list.messages.subject | Should -Be @($XssSubject, 'Welcome aboard', 'Quarterly report', 'Nightly job')
            $report = $list.messages[2]
            $report.from | Should -BeExactly 'demo@sandbox.test'
            $report.to | Should -BeExactly 'alice@sandbox.test'
            $report.attachments | Should -Be 1
            $report.html | Should -BeTrue
            $report.read | Should -BeFalse
            $report.size | Should -Be (Get-Item -LiteralPath (Get-SandboxMessage -User alice@sandbox.test -Mailbox Inbox)[1].Path).Length
            (Get-Json '/_sandbox/mail/alice%40sandbox.test/Inbox?limit=1').messages.Count | Should -Be 1
            (Get-Json '/_sandbox/mail/alice%40sandbox.test/Inbox?limit=1').total | Should -Be 4
            (Get-Spooled)[0].read | Should -BeNullOrEmpty
        }

        It 'searches subject, addresses, text, HTML and attachment names, case-insensitively' {
            foreach ($case in @(
                    @{ Q = 'QUARTERLY'; Subjects = @('Quarterly report') }
                    @{ Q = 'nightly job is done'; Subjects = @('Nightly job') }
                    @{ Q = 'figures.bin'; Subjects = @('Quarterly report') }
                    @{ Q = 'Our logo'; Subjects = @('Welcome aboard') }
                    @{ Q = 'bob@sandbox'; Subjects = @('Quarterly report') }
                    @{ Q = 'no such text'; Subjects = @() })) {
                $list = Get-Json "/_sandbox/spool?q=$([uri]::EscapeDataString($case.Q))"
                @($list.messages.subject) | Should -Be $case.Subjects -Because "searching '$($case.Q)'"
                $list.total | Should -Be $case.Subjects.Count
            }
        }

        It 'links each message to the sdmailact request that made it, masked as the request log is' {
            $report = (Get-Spooled)[2]
            $detail = Get-Json $report.url
            $recorded = @(Get-SandboxRequest -Command sdmailact)[1]
            $detail.request.seq | Should -Be $recorded.Seq
            $detail.request.messageId | Should -BeExactly $report.id
            $detail.request.user | Should -BeExactly 'demo@sandbox.test'
            $detail.request.path | Should -BeExactly '/<SID>.sdmailact.mail.mms'
            $detail.request.fields.name | Should -Be @('api', 'mto', 'mcc', 'msub', 'body', 'mheader', 'snd', 'keepcopy')
            ($detail.request.fields | Where-Object name -EQ body).length | Should -Be ($recorded.Fields | Where-Object Name -EQ body).Length
            # The same request behind every copy: alice's Inbox, bob's, demo's Outbox.
            (Get-Json "/_sandbox/mail/bob%40sandbox.test/Inbox/$($report.id)").request.seq | Should -Be $recorded.Seq
            (Get-Json "/_sandbox/mail/demo%40sandbox.test/Outbox/$($report.id)").request.seq | Should -Be $recorded.Seq
            $detail.envelope.recipients | Should -Be @('alice@sandbox.test', 'bob@sandbox.test')
        }

        It 'links a draft to the save that wrote it last' {
            Save-AosDraft -Subject 'First words' -Body 'one'
            $draft = (Get-Json '/_sandbox/mail/demo%40sandbox.test/Draft').messages[0]
            Save-AosDraft -DraftId $draft.id -Subject 'Second words' -Body 'two'
            $detail = Get-Json $draft.url
            $detail.subject | Should -BeExactly 'Second words'
            $detail.request.seq | Should -Be @(Get-SandboxRequest -Command sdmailact)[-1].Seq
            ($detail.request.fields | Where-Object name -EQ mid).value | Should -BeExactly $draft.id
        }

        It 'describes a message: headers, text, attachments with their decoded size' {
            $detail = Get-Json (Get-Spooled)[2].url
            $detail.subject | Should -BeExactly 'Quarterly report'
            $detail.cc | Should -BeExactly 'bob@sandbox.test'
            ($detail.headers | Where-Object name -EQ 'Subject').value | Should -BeExactly 'Quarterly report'
            $detail.html | Should -BeExactly "$((Get-Spooled)[2].url)/html"
            $detail.attachments.Count | Should -Be 1
            $detail.attachments[0].fileName | Should -BeExactly 'figures.bin'
            $detail.attachments[0].contentType | Should -BeExactly 'application/octet-stream'
            $detail.attachments[0].size | Should -Be 70000
            $detail.attachments[0].inline | Should -BeFalse
            (Get-Json (Get-Spooled)[3].url).text -replace "`r`n", "`n" | Should -BeExactly "Hello Alice,`nthe nightly job is done."
        }

        It 'serves an attachment byte for byte, as a download, under a no-script policy' {
            $part = (Get-Json (Get-Spooled)[2].url).attachments[0]
            $answer = Invoke-WebRequest -Uri "$Http$($part.url)"
            [Convert]::ToBase64String($answer.Content) | Should -BeExactly ([Convert]::ToBase64String([IO.File]::ReadAllBytes($Attachment.FullName)))
            [string]$answer.Headers['Content-Disposition'] | Should -BeLike 'attachment; filename=figures.bin*'
            [string]$answer.Headers['Content-Security-Policy'] | Should -BeLike "default-src 'none';*sandbox*"
            [string]$answer.Headers['X-Content-Type-Options'] | Should -BeExactly 'nosniff'
        }

        It 'serves message HTML under a policy with no script, cid: images pointing to their part, remote images only on request' {
            $welcome = Get-Json (Get-Spooled)[1].url
            $image = $welcome.attachments | Where-Object contentId -EQ 'logo@sandbox.test'
            $image.inline | Should -BeTrue
            $html = Invoke-WebRequest -Uri "$Http$($welcome.html)"
            $html.Content | Should -BeLike "*src=`"$Http$($image.url)?inline=true`"*"
            $html.Content | Should -Not -BeLike '*cid:*'
            [string]$html.Headers['Content-Type'] | Should -BeExactly 'text/html; charset=utf-8'
            $policy = [string]$html.Headers['Content-Security-Policy']
            $policy | Should -BeLike "default-src 'none';*"
            $policy | Should -BeLike '*; sandbox allow-popups allow-popups-to-escape-sandbox;*'
            $policy | Should -Not -BeLike '*allow-scripts*'
            $policy | Should -Not -BeLike '*script-src*'
            $policy | Should -BeLike "*img-src $Http data:;*"
            [string](Invoke-WebRequest -Uri "$Http$($welcome.html)?remote=true").Headers['Content-Security-Policy'] | Should -BeLike "*img-src $Http data: http: https:;*"
            $inline = Invoke-WebRequest -Uri "$Http$($image.url)?inline=true"
            [string]$inline.Headers['Content-Type'] | Should -BeExactly 'image/png'
            [string]$inline.Headers['Content-Disposition'] | Should -BeLike 'inline; filename=logo.png*'
            [Convert]::ToBase64String($inline.Content) | Should -BeExactly ([Convert]::ToBase64String($Png))
        }

        It 'serves the raw message as stored, whole or its head by range' {
            $item = (Get-Spooled)[3]
            $stored = [IO.File]::ReadAllBytes((Get-SandboxSpool)[0].Path)
            $raw = Invoke-WebRequest -Uri "$Http$($item.url)/raw"
            [Text.Encoding]::UTF8.GetBytes($raw.Content).Length | Should -Be $stored.Length
            [string]$raw.Headers['Content-Type'] | Should -BeExactly 'text/plain; charset=utf-8'
            $head = Invoke-WebRequest -Uri "$Http$($item.url)/raw" -Headers @{ Range = 'bytes=0-9' }
            $head.StatusCode | Should -Be 206
            $head.Content | Should -BeExactly 'From: demo'
            [string]$head.Headers['Content-Range'] | Should -BeExactly "bytes 0-9/$($stored.Length)"
            $download = Invoke-WebRequest -Uri "$Http$($item.url)/raw?download=true"
            [string]$download.Headers['Content-Disposition'] | Should -BeLike "attachment; filename=$($item.id).eml*"
        }

        It 'only looks: opening and downloading a message leaves it New for openbox' {
            $item = (Get-Json '/_sandbox/mail/alice%40sandbox.test/Inbox').messages[0]
            $null = Get-Json $item.url
            $null = Invoke-WebRequest -Uri "$Http$($item.url)/raw"
            (Get-Json '/_sandbox/mail/alice%40sandbox.test/Inbox').messages[0].read | Should -BeFalse
            $alice = Invoke-RawLogin -UserName 'alice@sandbox.test' -Password 'Alice-Passw0rd'
            $null = Invoke-AosRaw -Path "$alice.rdmail.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'Inbox'; file = $item.id })
            (Get-Json '/_sandbox/mail/alice%40sandbox.test/Inbox').messages[0].read | Should -BeTrue
        }

        It 'answers 404 for <What>' -TestCases @(
            @{ What = 'an unknown account'; Path = '/_sandbox/mail/nobody%40sandbox.test/Inbox' }
            @{ What = 'a path outside the mail folder'; Path = '/_sandbox/mail/..%2F..%2F..%2Fetc/Inbox' }
            @{ What = 'an unknown mailbox'; Path = '/_sandbox/mail/alice%40sandbox.test/Trash' }
            @{ What = 'an unknown message'; Path = '/_sandbox/spool/1.000' }
            @{ What = 'a message id that is no id'; Path = '/_sandbox/spool/..%2Fx/raw' }
            @{ What = 'a part that is not there'; Path = 'PART:99' }
            @{ What = 'HTML of a plain message'; Path = 'PLAIN:html' }
        ) {
            if ($Path -like 'PART:*') { $Path = "$((Get-Spooled)[2].url)/parts/$($Path.Substring(5))" }
            if ($Path -like 'PLAIN:*') { $Path = "$((Get-Spooled)[3].url)/$($Path.Substring(6))" }
            $answer = Invoke-WebRequest -Uri "$Http$Path" -SkipHttpErrorCheck
            $answer.StatusCode | Should -Be 404
        }

        It 'lists queued faults with the uses they have left' {
            Add-SandboxFault -Command sdmailact -Action status -StatusCode 503 -Text 'busy' -Times 2
            Add-SandboxFault -Command login -Action delay -DelayMs 10
            $faults = @(Get-Json '/_sandbox/faults')
            $faults.command | Should -Be @('sdmailact', 'login')
            $faults[0].action | Should -BeExactly 'status'
            $faults[0].status | Should -Be 503
            $faults[0].remaining | Should -Be 2
            $null = Invoke-AosRaw -Path "$(Invoke-RawLogin).sdmailact.mail.mms" -Form @{ api = 'lc' }
            @(Get-Json '/_sandbox/faults')[0].remaining | Should -Be 1
        }

        It 'counts changes to mail and to the request log, and gives the last requests of the log' {
            $before = Get-Json '/_sandbox/changes'
            $null = Invoke-RawLogin
            $after = Get-Json '/_sandbox/changes'
            $after.requests | Should -BeGreaterThan $before.requests
            $after.mail | Should -Be $before.mail
            Send-AosMessage -To 'bob@sandbox.test' -Subject 'One more'
            (Get-Json '/_sandbox/changes').mail | Should -BeGreaterThan $after.mail
            $last = @(Get-Json '/_sandbox/requests?last=2')
            $last.Count | Should -Be 2
            $last[1].seq | Should -Be @(Get-SandboxRequest)[-1].Seq
            (Get-Json "/_sandbox/requests/$($last[1].seq)").command | Should -BeExactly 'sdmailact'
        }

        It 'refuses <What> on the control and viewer paths' -TestCases @(
            @{ What = 'a foreign Host name (DNS rebinding)'; Method = 'GET'; Headers = @{ Host = 'attacker.example' } }
            @{ What = 'a post from a foreign web page'; Method = 'POST'; Headers = @{ Origin = 'http://attacker.example' } }
        ) {
            $client = [System.Net.Http.HttpClient]::new()
            try {
                $path = if ($Method -eq 'GET') { '/_sandbox/mail' } else { '/_sandbox/reset' }
                $request = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::new($Method), "$Http$path")
                if ($Headers.Host) { $request.Headers.Host = $Headers.Host }
                if ($Headers.Origin) { $null = $request.Headers.TryAddWithoutValidation('Origin', $Headers.Origin) }
                $client.SendAsync($request).GetAwaiter().GetResult().StatusCode | Should -Be 403
            }
            finally { $client.Dispose() }
            # Nothing was reset; the page's own posts (same origin) still work.
            (Get-Json '/_sandbox/spool').total | Should -BeGreaterThan 0
            $same = Invoke-WebRequest -Method Delete -Uri "$Http/_sandbox/faults" -Headers @{ Origin = $Http }
            $same.StatusCode | Should -Be 204
        }
    }

    Context 'in Chromium' -Skip:$NoBrowser {
        BeforeAll {
            if (-not $env:AOS_CHROMIUM) { throw 'No Chromium for the browser tests: CI must install it (apt-get install chromium).' }
            Reset-Sandbox
            $script:Attachment = Send-ViewerMail
            $script:Shots = if ($env:AOS_TEST_RESULTS) { $env:AOS_TEST_RESULTS } else { Join-Path $PSScriptRoot '../out/test-results' }
            $null = New-Item -ItemType Directory -Force -Path $Shots

            function Wait-Task {
                # Playwright's API is asynchronous; a test waits for each step in turn. Each step has
                # its own timeout; this bound only keeps a step that never ends from stalling the run.
                param([Parameter(Mandatory)] [System.Threading.Tasks.Task] $Task)
                $bound = [System.Threading.Tasks.Task]::Delay([TimeSpan]::FromSeconds(60))
                $null = [System.Threading.Tasks.Task]::WhenAny([System.Threading.Tasks.Task[]]@($Task, $bound)).GetAwaiter().GetResult()
                if (-not $Task.IsCompleted) { throw 'A browser step did not end within 60 s.' }
                $Task.GetAwaiter().GetResult()
            }

            function Expect {
                # Playwright's web-first assertions: each retries until it holds or its timeout passes.
                param([Parameter(Mandatory)] $Locator)
                [Microsoft.Playwright.Assertions]::Expect($Locator)
            }

            function Wait-Until {
                param([Parameter(Mandatory)] [scriptblock] $Condition, [string] $Because, [int] $TimeoutSec = 10)
                $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
                while (-not (& $Condition)) {
                    if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSec s waiting until $Because." }
                    Start-Sleep -Milliseconds 200
                }
            }

            function Save-Screenshot {
                param([Parameter(Mandatory)] [string] $Name)
                $null = Wait-Task ($Page.ScreenshotAsync([Microsoft.Playwright.PageScreenshotOptions]@{ Path = (Join-Path $Shots "viewer-$Name.png") }))
            }

            function Get-Row {
                # The list's row whose text has this subject.
                param([Parameter(Mandatory)] [string] $Subject)
                $Page.Locator('#list tbody tr').Filter([Microsoft.Playwright.LocatorFilterOptions]@{ HasText = $Subject })
            }

            function Open-Message {
                # Opens the viewer (in the spool unless told) and the message with this subject; waits for its view.
                param([Parameter(Mandatory)] [string] $Subject, [string] $Tab)
                $null = Wait-Task ($Page.GotoAsync($Ui))
                Wait-Task ((Get-Row $Subject).ClickAsync())
                Wait-Task ((Expect $Page.Locator('#m-subject')).ToHaveTextAsync($Subject))
                if ($Tab) { Wait-Task ($Page.Locator("#tab-$Tab").ClickAsync()) }
            }

            Add-Type -LiteralPath $env:AOS_PLAYWRIGHT
            [Microsoft.Playwright.Assertions]::SetDefaultExpectTimeout(10000)
            $script:Playwright = Wait-Task ([Microsoft.Playwright.Playwright]::CreateAsync())
            # Debian's Chromium, never a downloaded one; the flags keep it off the (closed) network.
            $script:Browser = Wait-Task ($Playwright.Chromium.LaunchAsync([Microsoft.Playwright.BrowserTypeLaunchOptions]@{
                        ExecutablePath = $env:AOS_CHROMIUM
                        Headless       = $true
                        Args           = [string[]]@('--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                            '--disable-component-update', '--disable-sync')
                    }))
            $script:BrowserContext = Wait-Task ($Browser.NewContextAsync([Microsoft.Playwright.BrowserNewContextOptions]@{
                        ViewportSize    = [Microsoft.Playwright.ViewportSize]@{ Width = 1280; Height = 800 }
                        AcceptDownloads = $true
                    }))
            $BrowserContext.SetDefaultTimeout(10000)
            $script:Page = Wait-Task ($BrowserContext.NewPageAsync())
            # The viewer's own errors (an exception in viewer.js) fail the test that caused them.
            $null = Register-ObjectEvent -InputObject $Page -EventName PageError -SourceIdentifier ViewerPageError
            $null = Register-ObjectEvent -InputObject $Page -EventName Dialog -SourceIdentifier ViewerDialog
        }

        AfterEach {
            $errors = @(Get-Event -SourceIdentifier ViewerPageError -ErrorAction Ignore)
            $errors | Remove-Event -ErrorAction Ignore
            @($errors | ForEach-Object { $_.SourceEventArgs }) | Should -BeNullOrEmpty -Because 'viewer.js throws nothing'
        }

        AfterAll {
            Unregister-Event -SourceIdentifier ViewerPageError -ErrorAction Ignore
            Unregister-Event -SourceIdentifier ViewerDialog -ErrorAction Ignore
            if ($Browser) { Wait-Task ($Browser.CloseAsync()) }
            if ($Playwright) { $Playwright.Dispose() }
        }

        It 'lists what the scripts sent, newest first, readable in a wide and a narrow window' {
            $null = Wait-Task ($Page.GotoAsync($Ui))
            $rows = $Page.Locator('#list tbody tr')
            Wait-Task ((Expect $rows).ToHaveCountAsync(4))
            Wait-Task ((Expect $Page.Locator('#list tbody td.subject')).ToHaveTextAsync([string[]]@($XssSubject, 'Welcome aboard', 'Quarterly report', 'Nightly job')))
            Wait-Task ((Expect $Page.Locator('#list tbody tr:has-text("Quarterly report") td.att')).ToHaveTextAsync('1'))
            Wait-Task ((Expect $Page.Locator('#folders button[aria-current="true"]')).ToHaveTextAsync('Spool4'))
            Save-Screenshot 'list-wide'
            Wait-Task ($Page.SetViewportSizeAsync(420, 860))
            Save-Screenshot 'list-narrow'
            Wait-Task ($Page.SetViewportSizeAsync(1280, 800))
        }

        It 'shows the read flag of a mailbox' {
            $alice = Invoke-RawLogin -UserName 'alice@sandbox.test' -Password 'Alice-Passw0rd'
            $plain = (Get-Json '/_sandbox/mail/alice%40sandbox.test/Inbox').messages[3]
            $null = Invoke-AosRaw -Path "$alice.rdmail.mbox.mms" -Form ([ordered]@{ api = 'lc'; mbox = 'Inbox'; file = $plain.id })
            $null = Wait-Task ($Page.GotoAsync($Ui))
            Wait-Task ($Page.Locator('#folders button[data-url="/_sandbox/mail/alice%40sandbox.test/Inbox"]').ClickAsync())
            Wait-Task ((Expect $Page.Locator('#folders button[aria-current="true"]')).ToHaveTextAsync('Inbox3/4'))
            Wait-Task ((Expect $Page.Locator('#list tbody tr.new')).ToHaveCountAsync(3))
            Wait-Task ((Expect (Get-Row 'Nightly job')).Not.ToHaveClassAsync('new'))
            Wait-Task ((Expect $Page.Locator('#list tbody tr:has-text("Nightly job") .dot')).ToHaveCountAsync(0))
        }

        It 'renders the HTML inside the sandboxed frame, with its inline image loaded and remote images blocked' {
            Open-Message 'Welcome aboard'
            Wait-Task ((Expect $Page.Locator('#tab-html')).ToHaveAttributeAsync('aria-selected', 'true'))
            $frameElement = $Page.Locator('#html-frame')
            Wait-Task ((Expect $frameElement).ToHaveAttributeAsync('sandbox', 'allow-popups allow-popups-to-escape-sandbox'))
            $frame = $frameElement.ContentFrame
            Wait-Task ((Expect $frame.Locator('#logo-line')).ToContainTextAsync('Our logo'))
            $logo = $frame.Locator('#logo')
            Wait-Task ((Expect $logo).ToHaveJSPropertyAsync('complete', $true))
            (Wait-Task ($logo.EvaluateAsync('img => img.naturalWidth'))).ToString() | Should -Be '16'
            (Wait-Task ($frame.Locator('#remote').EvaluateAsync('img => img.naturalWidth'))).ToString() | Should -Be '0'
            Save-Screenshot 'message-wide'
            # Narrow, the message sits below the list: the page scrolls to it when it is opened.
            Wait-Task ($Page.SetViewportSizeAsync(420, 860))
            Wait-Task ((Get-Row 'Welcome aboard').ClickAsync())
            Wait-Task ((Expect $Page.Locator('#html-frame')).ToBeInViewportAsync())
            Wait-Task ((Expect $frame.Locator('#logo')).ToHaveJSPropertyAsync('complete', $true))
            Save-Screenshot 'message-narrow'
            Wait-Task ($Page.SetViewportSizeAsync(1280, 800))
            @(Get-SandboxRequest | Where-Object Path -EQ '/remote-probe.png').Count | Should -Be 0 -Because 'remote images are blocked until asked for'

            Wait-Task ($Page.Locator('#remote-images').CheckAsync())
            Wait-Until { @(Get-SandboxRequest | Where-Object Path -EQ '/remote-probe.png').Count -eq 1 } -Because 'the remote image is fetched once asked for'
        }

        It 'downloads an attachment byte for byte' {
            Open-Message 'Quarterly report' -Tab attachments
            $link = $Page.Locator('#attachments a', [Microsoft.Playwright.PageLocatorOptions]@{ HasText = 'figures.bin' })
            $waiter = $Page.WaitForDownloadAsync()
            Wait-Task ($link.ClickAsync())
            $download = Wait-Task $waiter
            $download.SuggestedFilename | Should -BeExactly 'figures.bin'
            $saved = Join-Path $TestDrive 'downloaded.bin'
            Wait-Task ($download.SaveAsAsync($saved))
            (Get-FileHash -LiteralPath $saved).Hash | Should -BeExactly (Get-FileHash -LiteralPath $Attachment.FullName).Hash
            (Get-Item -LiteralPath $saved).Length | Should -Be 70000
        }

        It 'shows on the As sent tab the request that made the message: fields in order, mheader line by line, body length' {
            Open-Message 'Quarterly report' -Tab sent
            $recorded = @(Get-SandboxRequest -Command sdmailact)[1]
            Wait-Task ((Expect $Page.Locator('#sent tbody td.name')).ToHaveTextAsync([string[]]@($recorded.Fields.Name)))
            $mheader = ($recorded.Fields | Where-Object Name -EQ mheader).Value
            Wait-Task ((Expect $Page.Locator('#sent ul.lines li')).ToHaveTextAsync([string[]]@($mheader -split "`r`n")))
            $mheader | Should -BeLike '*Content-Type: multipart/mixed; boundary=*'
            $body = $recorded.Fields | Where-Object Name -EQ body
            Wait-Task ((Expect $Page.Locator('#sent summary')).ToHaveTextAsync("$($body.Length) characters"))
            Wait-Task ((Expect $Page.Locator('#sent-info')).ToContainTextAsync("Request #$($recorded.Seq): POST /<SID>.sdmailact.mail.mms from demo@sandbox.test"))
            $text = Wait-Task ($Page.Locator('#panel-sent').InnerTextAsync())
            $text | Should -Not -Match 'SID[A-Za-z0-9]{17}'
        }

        It 'finds messages by text as it is typed' {
            $null = Wait-Task ($Page.GotoAsync($Ui))
            $rows = $Page.Locator('#list tbody tr')
            Wait-Task ((Expect $rows).ToHaveCountAsync(4))
            Wait-Task ($Page.Locator('#search').FillAsync('nightly job is done'))
            Wait-Task ((Expect $rows).ToHaveCountAsync(1))
            Wait-Task ((Expect $rows).ToContainTextAsync('Nightly job'))
            Wait-Task ($Page.Locator('#search').FillAsync('figures.bin'))
            Wait-Task ((Expect $rows).ToContainTextAsync('Quarterly report'))
            Wait-Task ($Page.Locator('#search').FillAsync('nothing like this'))
            Wait-Task ((Expect $rows).ToHaveCountAsync(0))
            Wait-Task ((Expect $Page.Locator('#list-info')).ToHaveTextAsync('No message matches.'))
            Wait-Task ($Page.Locator('#search').PressAsync('Escape'))
            Wait-Task ((Expect $rows).ToHaveCountAsync(4))
        }

        It 'runs no script from a message: not in its frame, not in the page, no dialog' {
            Open-Message $XssSubject
            $frame = $Page.Locator('#html-frame').ContentFrame
            Wait-Task ((Expect $frame.Locator('#xss-text')).ToHaveTextAsync('Nothing to see.'))
            # The broken image has been tried (its onerror would have fired by now).
            Wait-Task ((Expect $frame.Locator('#xss-img')).ToHaveJSPropertyAsync('complete', $true))
            Start-Sleep -Milliseconds 500
            Wait-Task ((Expect $frame.Locator('body')).Not.ToHaveAttributeAsync('data-ran', [regex]'.*'))
            (Wait-Task ($Page.EvaluateAsync('() => typeof window.xssRan', $null))).ToString() | Should -BeExactly 'undefined'
            (Wait-Task ($Page.TitleAsync())) | Should -BeExactly 'AOS sandbox'
            # The subject is text in the list and the heading, never markup.
            Wait-Task ((Expect $Page.Locator('#list img')).ToHaveCountAsync(0))
            Wait-Task ((Expect $Page.Locator('#m-subject')).ToHaveTextAsync($XssSubject))
            @(Get-Event -SourceIdentifier ViewerDialog -ErrorAction Ignore).Count | Should -Be 0 -Because 'no alert() ran'
        }

        It 'can be used from the keyboard: / to search, arrows through the list and the tabs' {
            $null = Wait-Task ($Page.GotoAsync($Ui))
            Wait-Task ((Expect $Page.Locator('#list tbody tr')).ToHaveCountAsync(4))
            Wait-Task ($Page.Keyboard.PressAsync('/'))
            Wait-Task ((Expect $Page.Locator('#search')).ToBeFocusedAsync())
            Wait-Task ($Page.Keyboard.PressAsync('ArrowDown'))
            Wait-Task ($Page.Keyboard.PressAsync('Enter'))
            Wait-Task ((Expect $Page.Locator('#m-subject')).ToHaveTextAsync($XssSubject))
            Wait-Task ($Page.Keyboard.PressAsync('ArrowDown'))
            Wait-Task ((Expect $Page.Locator('#m-subject')).ToHaveTextAsync('Welcome aboard'))
            Wait-Task ($Page.Locator('#tab-html').FocusAsync())
            Wait-Task ($Page.Keyboard.PressAsync('ArrowRight'))
            Wait-Task ((Expect $Page.Locator('#tab-text')).ToHaveAttributeAsync('aria-selected', 'true'))
            Wait-Task ((Expect $Page.Locator('#text')).ToHaveTextAsync('Welcome aboard.'))
        }

        It 'shows new mail without a reload' {
            $null = Wait-Task ($Page.GotoAsync($Ui))
            Wait-Task ((Expect $Page.Locator('#list tbody tr')).ToHaveCountAsync(4))
            Send-AosMessage -To 'carol@example.org' -Subject 'Arrived while watching' -Body 'Hi'
            Wait-Task ((Expect $Page.Locator('#list tbody tr').First).ToContainTextAsync('Arrived while watching'))
        }

        It 'shows the request log, and a fault queued on the page is what the next send meets' {
            $null = Wait-Task ($Page.GotoAsync("$($Ui)#log"))
            Wait-Task ((Expect $Page.Locator('#log-view')).ToBeVisibleAsync())
            Wait-Task ($Page.Locator('#f-command').SelectOptionAsync('sdmailact'))
            Wait-Task ($Page.Locator('#f-action').SelectOptionAsync('status'))
            Wait-Task ($Page.Locator('#f-status').FillAsync('503'))
            Wait-Task ($Page.Locator('#f-text').FillAsync('server busy'))
            Wait-Task ($Page.Locator('#f-add').ClickAsync())
            Wait-Task ((Expect $Page.Locator('#faults tbody tr')).ToContainTextAsync('sdmailact'))
            (Get-Json '/_sandbox/faults')[0].status | Should -Be 503

            $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'Meets the fault' -Body 'x' }
            $result.Errors.Count | Should -Be 1
            $row = $Page.Locator('#requests tbody tr.request').First
            Wait-Task ((Expect $row).ToContainTextAsync('fault:status'))
            Wait-Task ((Expect $row).ToContainTextAsync('503'))
            Wait-Task ((Expect $row).ToContainTextAsync('demo@sandbox.test'))
            Wait-Task ((Expect $Page.Locator('#faults tbody')).ToContainTextAsync('No fault queued'))
            Wait-Task ($row.ClickAsync())
            Wait-Task ((Expect $Page.Locator('#requests tr.detail td.name').First).ToHaveTextAsync('api'))
            Wait-Task ((Expect $Page.Locator('#requests tr.detail summary')).ToHaveTextAsync('1 character'))
            Wait-Task ((Expect $Page.Locator('#mail-view')).ToBeHiddenAsync())
            Save-Screenshot 'log-wide'
            # The page asked the AOS side for nothing but the remote image (a favicon request would land in this log).
            @(Get-SandboxRequest | Where-Object { -not $_.Command -and $_.Path -ne '/remote-probe.png' }).Path | Should -BeNullOrEmpty
        }

        It 'shows on the Checks tab that a message the module sent passes every rule' {
            Open-Message 'Quarterly report' -Tab checks
            Wait-Task ((Expect $Page.Locator('#tab-checks')).ToHaveTextAsync('Checks (0)'))
            Wait-Task ((Expect $Page.Locator('#checks-info')).ToHaveTextAsync([regex]'^No findings: the message passes every rule'))
            Wait-Task ((Expect $Page.Locator('#checks tbody tr')).ToHaveCountAsync(0))
        }

        It 'shows on the Checks tab what the judge found in a broken message: severity, rule, line, times' {
            # Raw fields, broken on purpose: a bare LF, and two lines over 998 octets.
            $long = 'x' * 1200
            $form = [ordered]@{ api = 'lc'; mto = 'alice@sandbox.test'; msub = 'Broken on purpose'; body = "a`nb`r`n$long`r`n$long`r`n"; snd = 'checked' }
            (Invoke-AosRaw -Path "$(Invoke-RawLogin).sdmailact.mail.mms" -Form $form).Body | Should -BeExactly 'OK'
            $id = (Get-Spooled)[0].id
            Set-SandboxCheckMark -Id $id -Reason 'posted raw by the viewer test'
            Open-Message 'Broken on purpose' -Tab checks
            Wait-Task ((Expect $Page.Locator('#tab-checks')).ToHaveTextAsync('Checks (2)'))
            # From, To, Subject, Date, Message-ID, the empty line: the body starts on line 7.
            Wait-Task ((Expect $Page.Locator('#checks tbody tr')).ToHaveTextAsync([string[]]@('errorBareLf71LF without CR', 'errorLineTooLong92line over 998 octets')))
            Wait-Task ((Expect $Page.Locator('#checks tbody tr.error')).ToHaveCountAsync(2))
            Wait-Task ((Expect $Page.Locator('#checks-info')).ToContainTextAsync('2 errors and 0 warnings'))
            Wait-Task ((Expect $Page.Locator('#checks-info')).ToContainTextAsync('A test marked it as deliberately bad: posted raw by the viewer test'))
            Save-Screenshot 'checks-wide'
        }
    }
}
