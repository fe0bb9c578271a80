# The main job, run by `./build.ps1 Demo` against a freshly started AOS sandbox: everything a new
# user does on day one, through the cmdlets, then a look at what the server really got.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [uri] $Server,
    [Parameter(Mandatory)] [string] $UserName,
    [Parameter(Mandatory)] [string] $Password,
    [Parameter(Mandatory)] [string] $DataPath
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

function Step([string] $text) { Write-Host "`n== $text" -ForegroundColor Cyan }
function Show([string] $label, $value) { Write-Host ('   {0,-14} {1}' -f $label, $value) }

Import-Module $ModulePath
Write-Host "AosMail $((Get-Module AosMail).Version) against the AOS sandbox at $Server" -ForegroundColor Green

Step 'New-AosSession: log in as the demo user'
$credential = [pscredential]::new($UserName, (ConvertTo-SecureString $Password -AsPlainText -Force))
$session = New-AosSession -Server $Server -Credential $credential -AllowUnencryptedAuthentication
Show 'session' $session
Show 'created' $session.Created

Step 'Send-AosMessage: a plain message to alice, cc bob, with a custom header'
$sent = Send-AosMessage -To 'Alice Example <alice@sandbox.test>' -Cc bob@sandbox.test -Subject 'Quarterly report' `
    -Body "Hello Alice,`nthe report is ready.`n-- demo" -Header ([ordered]@{ 'X-Company' = 'Afteroffice'; 'X-Ticket' = 42 }) `
    -Priority High -KeepCopy -PassThru
Show 'result' "$($sent.ServerAnswer) in $([int]$sent.Duration.TotalMilliseconds) ms, $($sent.RequestBytes) bytes posted"

Step 'Send-AosMessage: HTML with an attachment'
$attachment = Join-Path ([IO.Path]::GetTempPath()) 'aos-demo-figures.csv'
"quarter,revenue`nQ1,100`nQ2,120" | Set-Content -LiteralPath $attachment -Encoding utf8
$html = Send-AosMessage -To alice@sandbox.test -Subject 'Figures (HTML) – Größe' -BodyAsHtml `
    -Body '<h1>Figures</h1><p>See the <b>attached</b> CSV.</p>' -Attachments $attachment -PassThru
Show 'result' "$($html.ServerAnswer), attached $($html.Attachments -join ', ')"

Step 'Save-AosDraft: save a draft, then overwrite it'
$draftFolder = Join-Path $DataPath "mail/$UserName/Draft"
$saved = Save-AosDraft -To bob@sandbox.test -Subject 'Draft, first version' -Body 'Not ready yet.'
$draftId = (Get-ChildItem -LiteralPath $draftFolder -Filter *.eml | Sort-Object LastWriteTime | Select-Object -Last 1).BaseName
Show 'saved' "$($saved.ServerAnswer): draft $draftId"
$null = Save-AosDraft -DraftId $draftId -To bob@sandbox.test -Subject 'Draft, second version' -Body 'Ready now.'
Show 'overwritten' "draft $draftId"

Step 'What the sandbox received'
$requests = Invoke-RestMethod -Uri ([uri]::new($Server, '/_sandbox/requests?command=sdmailact'))
foreach ($r in $requests) {
    $fields = ($r.fields | ForEach-Object { if ($_.name -in 'body', 'mheader') { "$($_.name)($($_.length) chars)" } else { "$($_.name)=$($_.value)" } }) -join ' '
    Show "request $($r.seq)" "$($r.method) $($r.path) -> $($r.outcome)"
    Show '' $fields
}
foreach ($box in @(
        @{ User = 'alice@sandbox.test'; Mailbox = 'Inbox' },
        @{ User = 'bob@sandbox.test'; Mailbox = 'Inbox' },
        @{ User = $UserName; Mailbox = 'Outbox' },
        @{ User = $UserName; Mailbox = 'Draft' })) {
    $folder = Join-Path $DataPath "mail/$($box.User)/$($box.Mailbox)"
    $files = @(Get-ChildItem -LiteralPath $folder -Filter *.eml -ErrorAction Ignore)
    Write-Host ("   {0} {1}: {2} message(s)" -f $box.User, $box.Mailbox, $files.Count) -ForegroundColor Yellow
    foreach ($file in $files) {
        $head = (Get-Content -Raw -LiteralPath $file.FullName) -split "`r`n`r`n", 2 | Select-Object -First 1
        $pick = $head -split "`r`n" | Where-Object { $_ -match '^(From|To|Cc|Subject|X-Priority|X-Company|X-Ticket|Content-Type):' }
        $pick | ForEach-Object { Write-Host "      $_" }
    }
}
Write-Host "`nDone: mail is under $DataPath" -ForegroundColor Green
