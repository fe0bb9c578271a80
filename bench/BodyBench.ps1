# The -BodyPath rows of bench/Bench.ps1's bounded section (dot-sourced there, in its scope: $base,
# $credential, $work, $Smoke, Add-Result, Assert-Sent, Get-Memory, Reset-PeakMemory). A 256 MB
# body file is read as it is sent, never held as text (AosBodyFile): the peak working-set growth
# of this process during the send, over the idle import, for
#   long lines   ASCII lines of 1,000 characters: a MIME text part, quoted-printable    <= 64 MB
#   UTF-8        short lines with umlauts and a euro sign: the plain body, 8bit          <= 64 MB
# -Section body runs these rows alone.
$bodyBytes = if ($Smoke) { 20MB } else { 256MB }
$bodyFiles = [ordered]@{
    'long lines' = @{ Line = ('The quick brown fox jumps over the lazy dog. ' * 23).Substring(0, 1000) + "`n"; Encoding = 'quoted-printable' }
    'UTF-8'      = @{ Line = "Grüße aus Köln: 5 € für die Kaffeekasse, danke schön.`n"; Encoding = '8bit' }
}
foreach ($kind in $bodyFiles.Keys) {
    $bodyPath = Join-Path $work 'body.txt'
    $writer = [IO.StreamWriter]::new($bodyPath, $false, [Text.UTF8Encoding]::new($false), 1MB)
    try {
        $line = $bodyFiles[$kind].Line
        $block = $line * [math]::Max(1, [int](64KB / $line.Length))
        $blockBytes = [Text.Encoding]::UTF8.GetByteCount($block)
        for ($written = 0; $written -lt $bodyBytes; $written += $blockBytes) { $writer.Write($block) }
    }
    finally { $writer.Dispose() }

    Reset-Sandbox
    # A quoted-printable 256 MB body makes a form of about 300 MB; the sandbox's ceiling is 512 MB.
    $null = Set-SandboxOption -MaxRequestBytes 4GB
    $session = New-AosSession -Server $base -Credential $credential -AllowUnencryptedAuthentication
    # Warm the send path (JIT) with a small body file of the same kind, then measure from a settled heap.
    $warmPath = Join-Path $work 'warm-body.txt'
    [IO.File]::WriteAllText($warmPath, $line * 20)
    Send-AosMessage -Session $session -To 'alice@sandbox.test' -Subject "warm body $kind" -BodyPath $warmPath
    Reset-Sandbox
    $null = Set-SandboxOption -MaxRequestBytes 4GB
    $session = New-AosSession -Server $base -Credential $credential -AllowUnencryptedAuthentication
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    Reset-PeakMemory $PID
    $before = Get-Memory $PID
    $sendSeconds = (Measure-Command { Send-AosMessage -Session $session -To 'alice@sandbox.test' -Subject "body $kind" -BodyPath $bodyPath }).TotalSeconds
    $after = Get-Memory $PID
    $formBytes = Assert-Sent 1 "The $kind -BodyPath send"
    $sent = @(Get-SandboxRequest -Command sdmailact)[-1]
    $expected = $bodyFiles[$kind].Encoding
    $mheader = "$(($sent.Fields | Where-Object Name -EQ 'mheader').Value)"
    if ($mheader -notlike "*Content-Transfer-Encoding: $expected*") { throw "The $kind body was not sent $expected (mheader: $mheader)." }
    Add-Result "bounded: -BodyPath $kind peak growth" (($after.Peak - $before.Rss) / 1MB) 'MB' '<=' 64 `
        ("pwsh {0:N0} -> peak {1:N0} MB; a {2:N0} MB body file ({3}) sent in {4:N2} s, a {5:N0} MB form" -f ($before.Rss / 1MB), ($after.Peak / 1MB), ($bodyBytes / 1MB), $expected, $sendSeconds, ($formBytes / 1MB))
    Remove-Item -LiteralPath $bodyPath, $warmPath
}
