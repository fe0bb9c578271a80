# The main job, run by `./build.ps1 Demo` against a freshly started AOS sandbox: everything a new
# user does on day one, through the cmdlets: send, the draft loop, and reading the mail back.
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

Step 'Save-AosDraft: save a draft, overwrite it, then send it'
$draft = Save-AosDraft -To bob@sandbox.test -Subject 'Draft, first version' -Body 'Not ready yet.'
Show 'saved' "$($draft.ServerAnswer): draft $($draft.DraftId)"
$again = Save-AosDraft -DraftId $draft.DraftId -To bob@sandbox.test -Subject 'Draft, second version' -Body 'Ready now.'
Show 'overwritten' "draft $($again.DraftId)"
$null = Save-AosDraft -Subject 'Another draft' -Body 'Stays in Draft.'
Send-AosMessage -DraftId $draft.DraftId -To bob@sandbox.test -KeepCopy
Show 'sent' "draft $($draft.DraftId) as saved; Draft now holds: $((Get-AosMessage -Mailbox $session.DraftMailbox).Subject -join ', ')"

Step 'What the sandbox received (sdmailact requests)'
$requests = Invoke-RestMethod -Uri ([uri]::new($Server, '/_sandbox/requests?command=sdmailact'))
foreach ($r in $requests) {
    $fields = ($r.fields | ForEach-Object { if ($_.name -in 'body', 'mheader') { "$($_.name)($($_.length) chars)" } else { "$($_.name)=$($_.value)" } }) -join ' '
    Show "request $($r.seq)" "$($r.outcome): $fields"
}

Step "Get-AosMessage: alice's Inbox, through alice's own session"
$alice = New-AosSession -Server $Server -Credential ([pscredential]::new('alice@sandbox.test', (ConvertTo-SecureString 'Alice-Passw0rd' -AsPlainText -Force))) -AllowUnencryptedAuthentication
Get-AosMessage -Session $alice | Format-Table -Property Date, From, Subject, ContentType, Size -AutoSize | Out-String -Width 120 | Write-Host
$report = Get-AosMessage -Session $alice | Where-Object ContentType -EQ 'multipart/mixed' | Select-Object -First 1 | Get-AosMessage
Show 'read' "'$($report.Subject)': HTML $($report.HtmlBody.Length) chars, attachments $($report.AttachmentNames -join ', ')"
Show 'mailboxes' ((Get-AosMailbox -Session $alice | ForEach-Object { "$($_.Name) $($_.MessageCount) ($($_.UnreadCount) new)" }) -join '; ')
Remove-AosSession -Session $alice
Show 'demo Outbox' ((Get-AosMessage -Mailbox $session.OutboxMailbox).Subject -join ', ')
Write-Host "`nDone: mail is under $DataPath" -ForegroundColor Green
