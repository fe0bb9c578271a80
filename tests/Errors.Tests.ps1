# The bad-input matrix: each case gives its stable error id and category, names the offending
# value, never shows the password or a SID, and sends nothing: validation failures make no
# request at all; server refusals store nothing and are not retried.

BeforeDiscovery {
    $long = 'a' * 65
    # Cmd: Send (Send-AosMessage), Draft (Save-AosDraft) or Session (New-AosSession).
    # Params override the base call (To alice, Subject 's', Body 'b'); $null removes a parameter.
    $script:ValidationCases = @(
        @{ Name = 'CRLF in the subject'; Cmd = 'Send'; Params = @{ Subject = "Hello`r`nBcc: evil@example.org" }; ErrorId = 'AosInvalidSubject'; Category = 'InvalidArgument'; Offending = 'Hello' }
        @{ Name = 'LF in the subject'; Cmd = 'Send'; Params = @{ Subject = "Hello`nWorld" }; ErrorId = 'AosInvalidSubject'; Category = 'InvalidArgument'; Offending = 'Hello' }
        @{ Name = 'CR in the subject'; Cmd = 'Send'; Params = @{ Subject = "Hello`rWorld" }; ErrorId = 'AosInvalidSubject'; Category = 'InvalidArgument'; Offending = 'Hello' }
        @{ Name = 'LF in a draft subject'; Cmd = 'Draft'; Params = @{ Subject = "Draft`nline" }; ErrorId = 'AosInvalidSubject'; Category = 'InvalidArgument'; Offending = 'Draft' }
        @{ Name = 'CRLF in a header value'; Cmd = 'Send'; Params = @{ Header = @{ 'X-Test' = "a`r`nBcc: evil@example.org" } }; ErrorId = 'AosHeaderInjection'; Category = 'InvalidArgument'; Offending = 'X-Test' }
        @{ Name = 'LF in a header value'; Cmd = 'Send'; Params = @{ Header = @{ 'X-Test' = "a`nb" } }; ErrorId = 'AosHeaderInjection'; Category = 'InvalidArgument'; Offending = 'X-Test' }
        @{ Name = 'NUL in a header value'; Cmd = 'Send'; Params = @{ Header = @{ 'X-Nul' = "a`0b" } }; ErrorId = 'AosHeaderInjection'; Category = 'InvalidArgument'; Offending = 'X-Nul' }
        @{ Name = 'CRLF in a draft header value'; Cmd = 'Draft'; Params = @{ Header = @{ 'X-Test' = "a`r`nb" } }; ErrorId = 'AosHeaderInjection'; Category = 'InvalidArgument'; Offending = 'X-Test' }
        @{ Name = 'reserved header From'; Cmd = 'Send'; Params = @{ Header = @{ 'From' = 'boss@example.org' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'From' }
        @{ Name = 'reserved header to (lower case)'; Cmd = 'Send'; Params = @{ Header = @{ 'to' = 'x@example.org' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'to' }
        @{ Name = 'reserved header CC'; Cmd = 'Send'; Params = @{ Header = @{ 'CC' = 'x@example.org' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'CC' }
        @{ Name = 'reserved header Bcc'; Cmd = 'Send'; Params = @{ Header = @{ 'Bcc' = 'x@example.org' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'Bcc' }
        @{ Name = 'reserved header Subject'; Cmd = 'Send'; Params = @{ Header = @{ 'Subject' = 'other' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'Subject' }
        @{ Name = 'reserved header Date'; Cmd = 'Send'; Params = @{ Header = @{ 'Date' = 'Mon, 1 Jan 2024 00:00:00 +0000' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'Date' }
        @{ Name = 'reserved header message-id'; Cmd = 'Send'; Params = @{ Header = @{ 'message-id' = '<x@y>' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'message-id' }
        @{ Name = 'reserved header MIME-VERSION'; Cmd = 'Send'; Params = @{ Header = @{ 'MIME-VERSION' = '1.0' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'MIME-VERSION' }
        @{ Name = 'reserved header Content-Type'; Cmd = 'Send'; Params = @{ Header = @{ 'Content-Type' = 'text/html' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'Content-Type' }
        @{ Name = 'reserved header content-transfer-encoding'; Cmd = 'Draft'; Params = @{ Header = @{ 'content-transfer-encoding' = 'base64' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'content-transfer-encoding' }
        @{ Name = "header name 'Bad Name'"; Cmd = 'Send'; Params = @{ Header = @{ 'Bad Name' = 'x' } }; ErrorId = 'AosInvalidHeaderName'; Category = 'InvalidArgument'; Offending = 'Bad Name' }
        @{ Name = "header name 'X:Y'"; Cmd = 'Send'; Params = @{ Header = @{ 'X:Y' = 'x' } }; ErrorId = 'AosInvalidHeaderName'; Category = 'InvalidArgument'; Offending = 'X:Y' }
        @{ Name = 'a non-ASCII header name'; Cmd = 'Send'; Params = @{ Header = @{ 'X-Grüße' = 'x' } }; ErrorId = 'AosInvalidHeaderName'; Category = 'InvalidArgument'; Offending = 'X-Grüße' }
        @{ Name = "To 'not-an-address'"; Cmd = 'Send'; Params = @{ To = 'not-an-address' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'not-an-address' }
        @{ Name = "To 'a@'"; Cmd = 'Send'; Params = @{ To = 'a@' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'a@' }
        @{ Name = "To '@b.org'"; Cmd = 'Send'; Params = @{ To = '@b.org' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = '@b.org' }
        @{ Name = 'To with an unterminated quote'; Cmd = 'Send'; Params = @{ To = '"unterminated <a@b.org' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'unterminated' }
        @{ Name = 'a bad address after a good one'; Cmd = 'Send'; Params = @{ To = 'alice@sandbox.test', 'broken@' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'broken@' }
        @{ Name = "Cc 'cc@'"; Cmd = 'Send'; Params = @{ Cc = 'cc@' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'cc@' }
        @{ Name = "Bcc '@bcc.org'"; Cmd = 'Send'; Params = @{ Bcc = '@bcc.org' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = '@bcc.org' }
        @{ Name = 'a bad address in a draft'; Cmd = 'Draft'; Params = @{ To = 'draft@' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'draft@' }
        @{ Name = 'an empty To'; Cmd = 'Send'; Params = @{ To = '' }; ErrorId = 'AosNoRecipient'; Category = 'InvalidArgument'; Offending = 'recipient' }
        @{ Name = 'a blank To'; Cmd = 'Send'; Params = @{ To = '  ' }; ErrorId = 'AosNoRecipient'; Category = 'InvalidArgument'; Offending = 'recipient' }
        @{ Name = 'only blank recipients everywhere'; Cmd = 'Send'; Params = @{ To = '', ' '; Cc = ''; Bcc = ' ' }; ErrorId = 'AosNoRecipient'; Category = 'InvalidArgument'; Offending = 'recipient' }
        @{ Name = 'a missing attachment'; Cmd = 'Send'; Params = @{ Attachments = 'nosuch-file.bin' }; ErrorId = 'AosAttachmentNotFound'; Category = 'ObjectNotFound'; Offending = 'nosuch-file.bin' }
        @{ Name = 'a missing attachment on a draft'; Cmd = 'Draft'; Params = @{ Attachments = 'nosuch-draft.bin' }; ErrorId = 'AosAttachmentNotFound'; Category = 'ObjectNotFound'; Offending = 'nosuch-draft.bin' }
        @{ Name = 'priority 0'; Cmd = 'Send'; Params = @{ Priority = 0 }; ErrorId = 'AosInvalidPriority'; Category = 'InvalidArgument'; Offending = '0' }
        @{ Name = 'priority 6'; Cmd = 'Send'; Params = @{ Priority = 6 }; ErrorId = 'AosInvalidPriority'; Category = 'InvalidArgument'; Offending = '6' }
        @{ Name = 'priority -1'; Cmd = 'Draft'; Params = @{ Priority = -1 }; ErrorId = 'AosInvalidPriority'; Category = 'InvalidArgument'; Offending = '-1' }
        @{ Name = "draft id '../x'"; Cmd = 'Send'; Params = @{ DraftId = '../x' }; ErrorId = 'AosInvalidDraftId'; Category = 'InvalidArgument'; Offending = '../x' }
        @{ Name = 'a 65-character draft id'; Cmd = 'Draft'; Params = @{ DraftId = $long }; ErrorId = 'AosInvalidDraftId'; Category = 'InvalidArgument'; Offending = $long.Substring(0, 40) }
        @{ Name = "draft id 'a b'"; Cmd = 'Draft'; Params = @{ DraftId = 'a b' }; ErrorId = 'AosInvalidDraftId'; Category = 'InvalidArgument'; Offending = 'a b' }
        @{ Name = 'U+0085 (NEL) in a display name'; Cmd = 'Send'; Params = @{ To = "Alice`u{0085}Evil <alice@sandbox.test>" }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'U+0085'; Target = 'Evil <alice@sandbox.test>' }
        @{ Name = 'U+2028 (line separator) in an address'; Cmd = 'Send'; Params = @{ Cc = "bob@sandbox.test`u{2028}" }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'U+2028'; Target = 'bob@sandbox.test' }
        @{ Name = 'U+2029 (paragraph separator) in a draft address'; Cmd = 'Draft'; Params = @{ To = "Bob`u{2029} <bob@sandbox.test>" }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'U+2029'; Target = 'bob@sandbox.test' }
        @{ Name = 'a C0 control character in an address'; Cmd = 'Send'; Params = @{ Bcc = "hidden`u{0001}@example.org" }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'U+0001'; Target = 'example.org' }
        @{ Name = 'a tab in an address'; Cmd = 'Send'; Params = @{ To = "Alice`t<alice@sandbox.test>" }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'U+0009'; Target = 'alice@sandbox.test' }
        @{ Name = 'DEL in an address'; Cmd = 'Send'; Params = @{ To = "alice`u{007F}@sandbox.test" }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'U+007F'; Target = 'sandbox.test' }
        @{ Name = 'an ASCII subject one character too long (990)'; Cmd = 'Send'; Params = @{ Subject = 'a' * 990 }; ErrorId = 'AosInvalidSubject'; Category = 'InvalidArgument'; Offending = 'too long'; Target = 'aaaa' }
        @{ Name = 'a non-ASCII subject too long once encoded (300 characters)'; Cmd = 'Draft'; Params = @{ Subject = '日本' * 150 }; ErrorId = 'AosInvalidSubject'; Category = 'InvalidArgument'; Offending = 'too long'; Target = '日本日本' }
        @{ Name = '-Priority with an X-Priority header'; Cmd = 'Send'; Params = @{ Priority = 'High'; Header = @{ 'X-Priority' = '1' } }; ErrorId = 'AosConflictingParameters'; Category = 'InvalidArgument'; Offending = 'X-Priority' }
        @{ Name = '-Priority with an Importance header'; Cmd = 'Draft'; Params = @{ Priority = 1; Header = @{ 'importance' = 'high' } }; ErrorId = 'AosConflictingParameters'; Category = 'InvalidArgument'; Offending = 'importance' }
        @{ Name = 'a $null header value'; Cmd = 'Send'; Params = @{ Header = @{ 'X-Empty' = $null } }; ErrorId = 'AosInvalidHeaderValue'; Category = 'InvalidArgument'; Offending = 'X-Empty' }
        @{ Name = 'a $null in a repeated header'; Cmd = 'Draft'; Params = @{ Header = @{ 'X-Tag' = @('a', $null) } }; ErrorId = 'AosInvalidHeaderValue'; Category = 'InvalidArgument'; Offending = 'X-Tag' }
        @{ Name = 'reserved header Resent-From'; Cmd = 'Send'; Params = @{ Header = @{ 'Resent-From' = 'boss@example.org' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'Resent-From' }
        @{ Name = '-TextBody with a plain -Body'; Cmd = 'Send'; Params = @{ TextBody = 'also text' }; ErrorId = 'AosConflictingParameters'; Category = 'InvalidArgument'; Offending = '-TextBody'; Target = 'also text' }
        @{ Name = 'a cid with no inline attachment'; Cmd = 'Send'; Params = @{ Body = '<img src="cid:logo">'; BodyAsHtml = $true }; ErrorId = 'AosMissingInlineAttachment'; Category = 'ObjectNotFound'; Offending = 'cid:logo'; Target = 'logo' }
        @{ Name = 'inline attachments without an HTML body'; Cmd = 'Draft'; Params = @{ InlineAttachments = @{ logo = 'logo.png' } }; ErrorId = 'AosConflictingParameters'; Category = 'InvalidArgument'; Offending = '-BodyAsHtml'; Target = 'logo' }
        @{ Name = 'a content id with a space'; Cmd = 'Send'; Params = @{ Body = '<img src="cid:my logo">'; BodyAsHtml = $true; InlineAttachments = @{ 'my logo' = @{ Name = 'l.png'; Content = [byte[]](1) } } }; ErrorId = 'AosInvalidAttachment'; Category = 'InvalidArgument'; Offending = 'my logo' }
        @{ Name = 'attachment content that is a number'; Cmd = 'Send'; Params = @{ Attachments = @{ Name = 'a.bin'; Content = 5 } }; ErrorId = 'AosInvalidAttachment'; Category = 'InvalidArgument'; Offending = 'Int32'; Target = 'a.bin' }
        @{ Name = 'attachment content without a name'; Cmd = 'Draft'; Params = @{ Attachments = @{ Content = [byte[]](1, 2) } }; ErrorId = 'AosInvalidAttachment'; Category = 'InvalidArgument'; Offending = 'file name'; Target = '2 bytes without a name' }
        @{ Name = 'a missing -BodyPath'; Cmd = 'Send'; Params = @{ Body = $null; BodyPath = 'nosuch-body.txt' }; ErrorId = 'AosBodyFileNotFound'; Category = 'ObjectNotFound'; Offending = 'nosuch-body.txt' }
        @{ Name = '-Body with -BodyPath'; Cmd = 'Draft'; Params = @{ BodyPath = 'body.txt' }; ErrorId = 'AosConflictingParameters'; Category = 'InvalidArgument'; Offending = '-BodyPath'; Target = 'body.txt' }
        @{ Name = 'a bad -ReplyTo'; Cmd = 'Send'; Params = @{ ReplyTo = 'nobody@' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'nobody@' }
        @{ Name = '-ReplyTo with a Reply-To header'; Cmd = 'Draft'; Params = @{ ReplyTo = 'help@sandbox.test'; Header = @{ 'reply-to' = 'x@sandbox.test' } }; ErrorId = 'AosConflictingParameters'; Category = 'InvalidArgument'; Offending = 'Reply-To'; Target = 'reply-to' }
        @{ Name = '-RequestReadReceipt with the header it writes'; Cmd = 'Send'; Params = @{ RequestReadReceipt = $true; Header = @{ 'Disposition-Notification-To' = 'x@sandbox.test' } }; ErrorId = 'AosConflictingParameters'; Category = 'InvalidArgument'; Offending = '-RequestReadReceipt'; Target = 'Disposition-Notification-To' }
        @{ Name = 'reserved header resent-message-id'; Cmd = 'Draft'; Params = @{ Header = @{ 'resent-message-id' = '<x@y>' } }; ErrorId = 'AosReservedHeader'; Category = 'InvalidArgument'; Offending = 'resent-message-id' }
        # Inputs a mail system chokes on (issue 24.7): refused before the wire.
        @{ Name = 'a non-ASCII local part'; Cmd = 'Send'; Params = @{ To = 'jösé@example.com' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = 'SMTPUTF8'; Target = 'jösé@example.com' }
        @{ Name = 'a non-ASCII local part in a draft Cc'; Cmd = 'Draft'; Params = @{ Cc = 'Jörg <jörg@example.com>' }; ErrorId = 'AosInvalidAddress'; Category = 'InvalidArgument'; Offending = "'jörg'"; Target = 'jörg@example.com' }
        @{ Name = 'ESC in the subject'; Cmd = 'Send'; Params = @{ Subject = "`e[31mred" }; ErrorId = 'AosInvalidSubject'; Category = 'InvalidArgument'; Offending = 'U+001B'; Target = '[31mred' }
        @{ Name = 'DEL in a draft subject'; Cmd = 'Draft'; Params = @{ Subject = "a`u{007F}b" }; ErrorId = 'AosInvalidSubject'; Category = 'InvalidArgument'; Offending = 'U+007F'; Target = 'b' }
        @{ Name = 'BEL in the subject'; Cmd = 'Send'; Params = @{ Subject = "ring`a" }; ErrorId = 'AosInvalidSubject'; Category = 'InvalidArgument'; Offending = 'U+0007'; Target = 'ring' }
        @{ Name = 'ESC in a header value'; Cmd = 'Send'; Params = @{ Header = @{ 'X-Color' = "`e[31mred" } }; ErrorId = 'AosInvalidHeaderValue'; Category = 'InvalidArgument'; Offending = 'U+001B'; Target = '[31mred' }
        @{ Name = 'DEL in a draft header value'; Cmd = 'Draft'; Params = @{ Header = @{ 'X-Del' = "a`u{007F}b" } }; ErrorId = 'AosInvalidHeaderValue'; Category = 'InvalidArgument'; Offending = 'X-Del'; Target = 'b' }
        @{ Name = 'an empty list of header values'; Cmd = 'Send'; Params = @{ Header = @{ 'X-A' = @() } }; ErrorId = 'AosInvalidHeaderValue'; Category = 'InvalidArgument'; Offending = 'X-A' }
        @{ Name = 'an empty attachment entry'; Cmd = 'Send'; Params = @{ Attachments = @{} }; ErrorId = 'AosInvalidAttachment'; Category = 'InvalidArgument'; Offending = 'empty'; Target = 'empty attachment entry' }
        @{ Name = 'an empty content id'; Cmd = 'Send'; Params = @{ Body = '<p>x</p>'; BodyAsHtml = $true; InlineAttachments = @{ '' = @{ Name = 'l.png'; Content = [byte[]](1) } } }; ErrorId = 'AosInvalidAttachment'; Category = 'InvalidArgument'; Offending = 'empty content id'; Target = 'l.png' }
        @{ Name = "an attachment named '..'"; Cmd = 'Send'; Params = @{ Attachments = @{ Name = '..'; Content = [byte[]](1) } }; ErrorId = 'AosInvalidAttachment'; Category = 'InvalidArgument'; Offending = "'..'"; Target = '..' }
        @{ Name = "an attachment named '.'"; Cmd = 'Draft'; Params = @{ Attachments = @{ Name = '.'; Content = [byte[]](1) } }; ErrorId = 'AosInvalidAttachment'; Category = 'InvalidArgument'; Offending = "'.'"; Target = '.' }
        @{ Name = 'an attachment name with a slash'; Cmd = 'Send'; Params = @{ Attachments = @{ Name = '../etc/passwd'; Content = [byte[]](1) } }; ErrorId = 'AosInvalidAttachment'; Category = 'InvalidArgument'; Offending = '../etc/passwd' }
        @{ Name = 'an attachment name with a backslash'; Cmd = 'Send'; Params = @{ Attachments = @{ Name = 'dir\a.txt'; Content = [byte[]](1) } }; ErrorId = 'AosInvalidAttachment'; Category = 'InvalidArgument'; Offending = 'dir\a.txt' }
        @{ Name = 'an attachment name with ESC'; Cmd = 'Send'; Params = @{ Attachments = @{ Name = "a`e.txt"; Content = [byte[]](1) } }; ErrorId = 'AosInvalidAttachment'; Category = 'InvalidArgument'; Offending = 'u001B'; Target = '.txt' }
    )

    # Failures found at the server or in the connection settings (Cmd Session = New-AosSession).
    # Fault: what the sandbox is told to do first. Sdmailact: how many sdmailact requests are expected.
    $script:ServerCases = @(
        @{ Name = 'http without -AllowUnencryptedAuthentication'; Cmd = 'Session'; Params = @{ AllowUnencryptedAuthentication = $null }; ErrorId = 'AosUnencryptedRefused'; Category = 'SecurityError'; Offending = 'AllowUnencryptedAuthentication'; Requests = 0; Sdmailact = 0 }
        @{ Name = 'http without the switch, one-shot send'; Cmd = 'OneShot'; Params = @{ AllowUnencryptedAuthentication = $null }; ErrorId = 'AosUnencryptedRefused'; Category = 'SecurityError'; Offending = 'AllowUnencryptedAuthentication'; Requests = 0; Sdmailact = 0 }
        @{ Name = 'an empty password'; Cmd = 'Session'; Params = @{ Password = '' }; ErrorId = 'AosNoCredential'; Category = 'InvalidArgument'; Offending = 'empty'; Requests = 0; Sdmailact = 0 }
        @{ Name = 'an empty password, one-shot send'; Cmd = 'OneShot'; Params = @{ Password = '' }; ErrorId = 'AosNoCredential'; Category = 'InvalidArgument'; Offending = 'empty'; Requests = 0; Sdmailact = 0 }
        @{ Name = 'a blank -DraftMailbox'; Cmd = 'Session'; Params = @{ DraftMailbox = ' ' }; ErrorId = 'AosInvalidMailbox'; Category = 'InvalidArgument'; Offending = "' '"; Requests = 0; Sdmailact = 0 }
        @{ Name = 'a line break in -OutboxMailbox'; Cmd = 'Session'; Params = @{ OutboxMailbox = "Out`nbox" }; ErrorId = 'AosInvalidMailbox'; Category = 'InvalidArgument'; Offending = 'Out\nbox'; Requests = 0; Sdmailact = 0 }
        @{ Name = 'a relative server URI'; Cmd = 'Session'; Params = @{ Server = 'relative/path' }; ErrorId = 'AosInvalidServer'; Category = 'InvalidArgument'; Offending = 'relative/path'; Requests = 0; Sdmailact = 0 }
        @{ Name = 'a server URI with a query string'; Cmd = 'Session'; Params = @{ Server = '<http>/?x=1' }; ErrorId = 'AosInvalidServer'; Category = 'InvalidArgument'; Offending = 'x=1'; Requests = 0; Sdmailact = 0 }
        @{ Name = 'a one-shot relative server URI'; Cmd = 'OneShot'; Params = @{ Server = 'relative/path' }; ErrorId = 'AosInvalidServer'; Category = 'InvalidArgument'; Offending = 'relative/path'; Requests = 0; Sdmailact = 0 }
        @{ Name = 'an HTML page answering the login'; Cmd = 'Session'; Params = @{}; Fault = @{ Command = 'login'; Action = 'text'; Text = '<html><body><h1>Welcome to AfterOffice</h1></body></html>' }; ErrorId = 'AosLoginFailed'; Category = 'AuthenticationError'; Offending = 'Welcome to AfterOffice'; Requests = 1; Sdmailact = 0 }
        @{ Name = 'a garbage login answer'; Cmd = 'Session'; Params = @{}; Fault = @{ Command = 'login'; Action = 'text'; Text = 'garbage-answer 42' }; ErrorId = 'AosLoginFailed'; Category = 'AuthenticationError'; Offending = 'garbage-answer 42'; Requests = 1; Sdmailact = 0 }
        @{ Name = 'a login answer too short to be a SID'; Cmd = 'Session'; Params = @{}; Fault = @{ Command = 'login'; Action = 'text'; Text = 'SIDab' }; ErrorId = 'AosLoginFailed'; Category = 'AuthenticationError'; Offending = 'SIDab'; Requests = 1; Sdmailact = 0 }
        @{ Name = 'a login answer with a bad SID character'; Cmd = 'Session'; Params = @{}; Fault = @{ Command = 'login'; Action = 'text'; Text = 'SIDabcd-1234' }; ErrorId = 'AosLoginFailed'; Category = 'AuthenticationError'; Offending = 'login'; Requests = 1; Sdmailact = 0 }
        @{ Name = 'a wrong password'; Cmd = 'Session'; Params = @{ Password = 'Wrong-Passw0rd' }; ErrorId = 'AosLoginFailed'; Category = 'AuthenticationError'; Offending = 'demo'; Requests = 1; Sdmailact = 0 }
        @{ Name = 'a wrong password, one-shot send'; Cmd = 'OneShot'; Params = @{ Password = 'Wrong-Passw0rd' }; ErrorId = 'AosLoginFailed'; Category = 'AuthenticationError'; Offending = 'demo'; Requests = 1; Sdmailact = 0 }
        @{ Name = 'an HTML page answering sdmailact'; Cmd = 'Send'; Params = @{}; Fault = @{ Command = 'sdmailact'; Action = 'text'; Text = "<html><body><p>Mail service paused</p></body></html>" }; ErrorId = 'AosOutcomeUnknown'; Category = 'ProtocolError'; Offending = 'Mail service paused'; Sdmailact = 1 }
        @{ Name = 'false with a reason on sdmailact'; Cmd = 'Send'; Params = @{}; Fault = @{ Command = 'sdmailact'; Action = 'text'; Text = "false`nquota exceeded" }; ErrorId = 'AosServerRejected'; Category = $null; Offending = 'quota exceeded'; Sdmailact = 1 }
        @{ Name = 'a redirect on sdmailact'; Cmd = 'Send'; Params = @{}; Fault = @{ Command = 'sdmailact'; Action = 'redirect'; Location = 'http://127.0.0.1:9/login.html' }; ErrorId = 'AosServerRejected'; Category = $null; Offending = '302'; Sdmailact = 1 }
        @{ Name = 'a 404 on sdmailact'; Cmd = 'Draft'; Params = @{}; Fault = @{ Command = 'sdmailact'; Action = 'status'; StatusCode = 404; Text = 'no such page' }; ErrorId = 'AosServerRejected'; Category = $null; Offending = '404'; Sdmailact = 1 }
        @{ Name = 'sending a draft that does not exist'; Cmd = 'Send'; Params = @{ DraftId = 'nosuchdraft' }; ErrorId = 'AosServerRejected'; Category = $null; Offending = 'nosuchdraft'; Sdmailact = 1 }
        @{ Name = 'a SID in the server''s reason'; Cmd = 'Send'; Params = @{}; Fault = @{ Command = 'sdmailact'; Action = 'text'; Text = "false`nsession SIDAbCdEfGhIjKlMnOpQ is not yours" }; ErrorId = 'AosServerRejected'; Category = $null; Offending = 'is not yours'; Sdmailact = 1 }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function Get-CaseParameter {
        param([string] $Cmd, [hashtable] $Params, [switch] $OneShot)
        $p = @{}
        if ($Cmd -ne 'Session') {
            $p.To = 'alice@sandbox.test'
            $p.Subject = 's'
            $p.Body = 'b'
        }
        if ($Cmd -eq 'Session' -or $OneShot) {
            $p.Server = $Sandbox.BaseUri
            $p.Credential = New-TestCredential
            $p.AllowUnencryptedAuthentication = $true
        }
        foreach ($key in $Params.Keys) {
            $value = $Params[$key]
            if ($key -eq 'Password') {
                # ConvertTo-SecureString refuses an empty string; an empty password is an empty SecureString.
                $p.Credential = if ($value) { New-TestCredential -Password $value } else { [pscredential]::new($env:AOS_SANDBOX_USER, [securestring]::new()) }
                continue
            }
            if ($null -eq $value) { $p.Remove($key); continue }
            if ($value -is [string] -and $value.StartsWith('<http>')) { $value = $Sandbox.BaseUri + $value.Substring(6) }
            $p[$key] = $value
        }
        $p
    }

    function Invoke-Case {
        param([string] $Cmd, [hashtable] $Params, [switch] $OneShot)
        $p = Get-CaseParameter -Cmd $Cmd -Params $Params -OneShot:$OneShot
        Invoke-Captured {
            switch ($Cmd) {
                'Send' { Send-AosMessage @p -Confirm:$false }
                'OneShot' { Send-AosMessage @p -Confirm:$false }
                'Draft' { Save-AosDraft @p -Confirm:$false }
                'Session' { New-AosSession @p }
            }
        }
    }

    function Assert-CleanError {
        # One error with the id, the category and the offending value, and no secret in any form of it.
        param($Result, [string] $ErrorId, $Category, [string] $Offending)
        $Result.Errors.Count | Should -Be 1 -Because ($Result.Errors | Out-String)
        $err = $Result.Errors[0]
        $err | Get-ErrorId | Should -BeExactly $ErrorId
        if ($Category) { $err.CategoryInfo.Category | Should -Be $Category }
        $err.Exception.Message | Should -BeLike "*$([WildcardPattern]::Escape($Offending))*"
        $texts = @($err.Exception.Message, $err.ToString(), ($err | Format-List * -Force | Out-String), ($err.Exception | Format-List * -Force | Out-String))
        foreach ($text in $texts) {
            $text | Should -Not -BeLike "*$([WildcardPattern]::Escape($Sandbox.DemoPassword))*"
            $text | Should -Not -BeLike "*$([WildcardPattern]::Escape([uri]::EscapeDataString($Sandbox.DemoPassword)))*"
            $text | Should -Not -Match 'SID[A-Za-z0-9]{8,}'
        }
    }
}

Describe 'Errors' {
    BeforeEach {
        Reset-Sandbox
    }

    Describe 'Validation errors through a session: no request at all' {
        BeforeEach {
            $script:Session = New-TestSession
        }

        It '<Name> gives <ErrorId>' -ForEach $ValidationCases {
            $result = Invoke-Case -Cmd $Cmd -Params $Params
            Assert-CleanError -Result $result -ErrorId $ErrorId -Category $Category -Offending $Offending
            if ($ErrorId -ne 'AosNoRecipient') {
                # The offending input is the target (style: never the cmdlet, never null).
                $target = $result.Errors[0].TargetObject
                $target | Should -Not -BeNullOrEmpty
                if ($ErrorId -eq 'AosHeaderInjection') {
                    # The offending input is the value; the message names the header.
                    "$target" | Should -BeExactly @($Params.Header.Values)[0]
                }
                else {
                    # Target: a part of the offending input, where the message names it differently (an escaped character).
                    $expected = if ($_.ContainsKey('Target')) { $_.Target } else { $Offending }
                    "$target" | Should -BeLike "*$([WildcardPattern]::Escape($expected))*"
                }
            }
            $result.Output.Count | Should -Be 0
            $result.Requests.Count | Should -Be 0
            @(Get-SandboxSpool).Count | Should -Be 0
        }
    }

    Describe 'Validation errors in the one-shot form: not even a login' {
        It '<Name> gives <ErrorId>' -ForEach $ValidationCases {
            $result = Invoke-Case -Cmd $Cmd -Params $Params -OneShot
            Assert-CleanError -Result $result -ErrorId $ErrorId -Category $Category -Offending $Offending
            @(Get-SandboxRequest).Count | Should -Be 0
        }
    }

    Describe 'Server and connection errors' {
        It '<Name> gives <ErrorId>' -ForEach $ServerCases {
            if ($Cmd -in 'Send', 'Draft') { $null = New-TestSession }
            if ($Fault) { Add-SandboxFault @Fault }
            $result = Invoke-Case -Cmd $Cmd -Params $Params -OneShot:($Cmd -eq 'OneShot')
            Assert-CleanError -Result $result -ErrorId $ErrorId -Category $Category -Offending $Offending
            $result.Output.Count | Should -Be 0
            if ($null -ne $Requests) { $result.Requests.Count | Should -Be $Requests }
            @(Get-SandboxRequest -Command sdmailact).Count | Should -Be $Sdmailact -Because 'a refused send is never repeated'
            @(Get-SandboxSpool).Count | Should -Be 0
            @(Get-SandboxMessage -User 'alice@sandbox.test' -Mailbox Inbox).Count | Should -Be 0
            @(Get-SandboxMessage -User 'demo@sandbox.test' -Mailbox Draft).Count | Should -Be 0
        }

        It 'does not follow the redirect' {
            $null = New-TestSession
            Add-SandboxFault -Command sdmailact -Action redirect -Location '/st.login.mms'
            $result = Invoke-Captured { Send-AosMessage -To 'alice@sandbox.test' -Subject 'r' }
            Assert-OneError $result -ErrorId AosServerRejected -Category ProtocolError -MessageLike '*a redirect to*Redirects are not followed*'
            @($result.Requests | Where-Object Command -EQ 'login').Count | Should -Be 0
        }
    }
}
