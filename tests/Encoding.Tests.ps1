# Mail that relays accept (docs/aos-protocol.md B7, B8, B10), through the built module to the
# sandbox: plain bodies with long lines or control characters as MIME text parts, subjects and
# header values as encoded-words of at most 75 characters, header lines folded to 78. The stored
# message is judged by Python's email package (policy=default), a parser that is not the MimeKit
# writer the module uses: decoded content equals the input, and every line is within RFC 5322's
# limits (998 octets; 78 for all but the Subject line, which the server writes as one line).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    # The stored message as Python reads it: decoded subject, headers and text body, line lengths in octets.
    function Read-PythonEmail {
        param([Parameter(Mandatory)] [string] $Path)
        $script = @'
import sys, json, email
from email import policy
raw = open(sys.argv[1], 'rb').read()
msg = email.message_from_bytes(raw, policy=policy.default)
body = msg.get_body(preferencelist=('plain', 'html'))
json.dump({
    'subject': None if msg['Subject'] is None else str(msg['Subject']),
    'headers': [[k, str(v)] for k, v in msg.items()],
    'body': None if body is None else body.get_content().replace('\r\n', '\n'),
    'lines': [[len(l), l[:9] == b'Subject: '] for l in raw.split(b'\r\n')],
    'nul': b'\0' in raw,
    'bareLf': b'\n' in raw.replace(b'\r\n', b''),
    'defects': [type(d).__name__ for part in msg.walk() for d in part.defects],
}, sys.stdout)
'@
        $json = & python3 -c $script $Path
        if ($LASTEXITCODE -ne 0) { throw "python3 could not parse '$Path'." }
        $json | ConvertFrom-Json -NoEnumerate
    }

    # The one message alice got, judged: within the limits, and returned for the content checks.
    function Get-JudgedMessage {
        $items = @(Get-SandboxMessage -User alice@sandbox.test -Mailbox Inbox)
        $items.Count | Should -Be 1
        $mail = Read-PythonEmail -Path $items[0].Path
        @($mail.defects) | Should -BeNullOrEmpty
        $mail.nul | Should -BeFalse -Because 'a NUL is never sent raw'
        $mail.bareLf | Should -BeFalse
        foreach ($line in $mail.lines) {
            $line[0] | Should -BeLessOrEqual 998
            if (-not $line[1]) { $line[0] | Should -BeLessOrEqual 78 }
        }
        $mail
    }

    function Get-PythonHeader {
        param($Mail, [string] $Name)
        @($Mail.headers | Where-Object { $_[0] -eq $Name } | ForEach-Object { $_[1] })
    }

    function Get-FieldValue {
        param($Request, [string] $Name)
        ($Request.Fields | Where-Object Name -EQ $Name).Value
    }

    $script:QuotedPrintableText = "MIME-Version: 1.0`r`nContent-Type: text/plain; charset=utf-8`r`nContent-Transfer-Encoding: quoted-printable"
}

Describe 'Mail a relay accepts' {
    BeforeEach {
        Reset-Sandbox
        $script:Session = New-TestSession
    }

    Describe 'Plain bodies (B8)' {
        It 'sends a plain ASCII body with one 2,000-character line as quoted-printable, decoding to the input' {
            $body = 'x' * 2000
            Send-AosMessage -To alice@sandbox.test -Subject 'long line' -Body $body
            $send = Get-OnlySend
            Get-FieldValue $send mheader | Should -BeExactly $QuotedPrintableText
            (Get-JudgedMessage).body.TrimEnd("`n") | Should -BeExactly $body
        }

        It 'sends a UTF-8 body of 1,200 x ü on one line as a MIME text part, decoding to the input' {
            $body = 'ü' * 1200
            Send-AosMessage -To alice@sandbox.test -Subject 'umlauts' -Body $body
            Get-FieldValue (Get-OnlySend) mheader | Should -Match '^MIME-Version: 1\.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: (quoted-printable|base64)$'
            (Get-JudgedMessage).body.TrimEnd("`n") | Should -BeExactly $body
        }

        It 'encodes a NUL and a BEL in the body, never sending them raw' {
            $body = "before`0after`abell"
            Send-AosMessage -To alice@sandbox.test -Subject 'controls' -Body $body
            (Get-FieldValue (Get-OnlySend) body).Contains([char]0) | Should -BeFalse
            (Get-JudgedMessage).body.TrimEnd("`n") | Should -BeExactly $body
        }

        It 'keeps a short-line ASCII body exactly as before: plain, no mheader' {
            Send-AosMessage -To alice@sandbox.test -Subject 'short' -Body ("a" * 78 + "`n" + "b" * 78)
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', 'short'),
                @('body', ("a" * 78 + "`r`n" + "b" * 78)), @('snd', 'checked'))
            $null = Get-JudgedMessage
        }

        It 'saves a long-line body as a draft and sends it as saved, decoding to the input' {
            $body = ('word ' * 100).Trim() + "`nsecond line"
            $draft = Save-AosDraft -To alice@sandbox.test -Subject 'draft with a long line' -Body $body
            Send-AosMessage -DraftId $draft.DraftId -To alice@sandbox.test
            (Get-JudgedMessage).body.TrimEnd("`n") | Should -BeExactly $body
        }
    }

    Describe 'Subjects and headers (B7, B10)' {
        It 'sends a 275-character German subject as encoded-words of at most 75 characters on one line' {
            $subject = ('Größenänderung der Übersicht für Kunden – ' * 7).Substring(0, 275)
            Send-AosMessage -To alice@sandbox.test -Subject $subject -Body 'x'
            $msub = Get-FieldValue (Get-OnlySend) msub
            $msub | Should -Not -Match '[\r\n]'
            foreach ($word in $msub -split ' ') {
                $word | Should -Match '^=\?utf-8\?[bq]\?[!->@-~]+\?=$'
                $word.Length | Should -BeLessOrEqual 75
            }
            (Get-JudgedMessage).subject | Should -BeExactly $subject
        }

        It 'encodes an ASCII subject and header value that look like encoded-words, so they decode to themselves' {
            $text = 'Literal =?utf-8?q?hello?= text'
            Send-AosMessage -To alice@sandbox.test -Subject $text -Body 'x' -Header @{ 'X-Literal' = $text }
            Get-FieldValue (Get-OnlySend) msub | Should -Match '^=\?utf-8\?'
            $mail = Get-JudgedMessage
            $mail.subject | Should -BeExactly $text
            Get-PythonHeader $mail 'X-Literal' | Should -BeExactly $text
            # MimeKit, as Get-AosMessage reads it, agrees.
            (Get-AosMessage -Mailbox Inbox -Session (New-TestSession -UserName alice@sandbox.test -Password 'Alice-Passw0rd')).Subject | Should -BeExactly $text
        }

        It 'folds a 1,250-character -Header value at its spaces to lines of at most 78' {
            $value = 'word ' * 250
            Send-AosMessage -To alice@sandbox.test -Subject 'folded' -Body 'x' -Header @{ 'X-Long' = $value }
            $mheader = Get-FieldValue (Get-OnlySend) mheader
            $lines = $mheader -split "`r`n"
            $lines.Count | Should -BeGreaterThan 10
            foreach ($line in $lines | Select-Object -Skip 1) { $line | Should -Match '^ \S' }
            $mheader.Replace("`r`n", '') | Should -BeExactly "X-Long: $value"
            Get-PythonHeader (Get-JudgedMessage) 'X-Long' | Should -BeExactly $value
        }

        It 'sends a long non-ASCII -Header value as folded encoded-words, decoding to the input' {
            $value = ('Größenänderung der Übersicht für Kunden – ' * 7).Trim()
            Send-AosMessage -To alice@sandbox.test -Subject 's' -Body 'x' -Header @{ 'X-Note' = $value }
            Get-PythonHeader (Get-JudgedMessage) 'X-Note' | Should -BeExactly $value
        }

        It 'refuses a -Header value with a word too long for a 998-octet line (AosInvalidHeaderValue), sending nothing' {
            $value = 'id ' + ('x' * 1000)
            $result = Invoke-Captured { Send-AosMessage -To alice@sandbox.test -Subject 's' -Body 'x' -Header @{ 'X-Token' = $value } }
            Assert-OneError $result -ErrorId AosInvalidHeaderValue -Category InvalidArgument -MessageLike "*'X-Token'*998*"
            $result.Errors[0].TargetObject | Should -BeExactly $value
            $result.Requests.Count | Should -Be 0
        }

        It 'sends a TAB in a subject and a header value as it is' {
            Send-AosMessage -To alice@sandbox.test -Subject "a`tb" -Body 'x' -Header @{ 'X-Tab' = "c`td" }
            Assert-FieldList (Get-OnlySend) @(@('api', 'lc'), @('mto', 'alice@sandbox.test'), @('msub', "a`tb"),
                @('body', 'x'), @('mheader', "X-Tab: c`td"), @('snd', 'checked'))
            $mail = Get-JudgedMessage
            $mail.subject | Should -BeExactly "a`tb"
        }
    }

    Describe 'Addresses (B6)' {
        It 'keeps an IDN domain, encoded as punycode' {
            Send-AosMessage -To 'someone@bücher.example', alice@sandbox.test -Subject 'idn' -Body 'x'
            Get-FieldValue (Get-OnlySend) mto | Should -BeExactly 'someone@xn--bcher-kva.example, alice@sandbox.test'
        }
    }
}
