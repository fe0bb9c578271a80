# Issue 26.3, warm from the first send: the module's first connection (here New-AosSession) starts
# a background warm-up that runs the send path (building, measuring and writing a plain and a MIME
# form) into memory while the login runs, so that a first send in a new process does not wait for
# the JIT to compile it. (Importing alone starts nothing: tests/Isolation.Tests.ps1.) Proven by what the runtime
# compiles during that first send, counted in a fresh pwsh through the runtime's own JIT events;
# the time it saves is measured by the bench (bench/LargeSend.ps1, "first 100 MB send vs warm").
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Import-MimeKit

    # A fresh pwsh: import, log in (which starts the warm-up), wait for it, then list every method the JIT compiles
    # while one message with an HTML body and an attachment is sent.
    function Get-FirstSendCompilations([string] $Attachment) {
        $listener = @'
using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
public sealed class AosJitListener : EventListener
{
    public readonly ConcurrentQueue<string> Methods = new ConcurrentQueue<string>();
    public volatile bool On;
    protected override void OnEventSourceCreated(EventSource source)
    {
        // The runtime's JIT keyword (0x10): a MethodLoadVerbose event for each method compiled.
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x10);
    }
    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!On || e.EventName == null || !e.EventName.StartsWith("MethodLoadVerbose")) return;
        // A method's first compilation only (tiers 1-3: MinOpt, Optimized, QuickJitted), which the
        // thread calling it waits for; re-compiling a hot method at tier 1 runs in the background.
        int tier = (int)((System.Convert.ToUInt32(e.Payload[e.PayloadNames.IndexOf("MethodFlags")]) >> 7) & 7);
        if (tier < 1 || tier > 3) return;
        Methods.Enqueue(e.Payload[e.PayloadNames.IndexOf("MethodNamespace")] + "::" + e.Payload[e.PayloadNames.IndexOf("MethodName")]);
    }
}
'@
        $lines = Invoke-ChildPwsh -Command @"
`$ErrorActionPreference = 'Stop'
Add-Type -TypeDefinition @'
$listener
'@
`$jit = [AosJitListener]::new()
Import-Module '$env:AOS_TEST_MODULE'
`$credential = [pscredential]::new('$($Sandbox.DemoUser)', (ConvertTo-SecureString '$($Sandbox.DemoPassword)' -AsPlainText -Force))
`$session = New-AosSession -Server '$($Sandbox.BaseUri)' -Credential `$credential -AllowUnencryptedAuthentication
`$engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'AosMail.Engine' }
`$warmUp = `$engine.GetType('AosMail.Engine.AosWarmUp')
if (-not `$warmUp::Completed.Wait(60000)) { throw 'The warm-up did not end.' }
if (`$warmUp::Failure) { throw "The warm-up failed: `$(`$warmUp::Failure)" }
Start-Sleep -Milliseconds 500
`$jit.On = `$true
`$null = Send-AosMessage -Session `$session -To 'bob@sandbox.test' -Subject 'first send' -Body '<p>first</p>' -BodyAsHtml -Attachments '$Attachment'
Start-Sleep -Milliseconds 500
`$jit.On = `$false
'compiled: ' + (`$jit.Methods.ToArray() -join '|')
"@
        $result = @($lines | Where-Object { "$_" -like 'compiled: *' })
        if ($result.Count -ne 1) { throw "The child pwsh failed: $($lines -join "`n")" }
        @("$($result[0])".Substring('compiled: '.Length) -split '\|' | Where-Object { $_ })
    }
}

Describe 'The first send in a new process' {
    BeforeAll {
        $attachment = Join-Path $TestDrive 'report.bin'
        [IO.File]::WriteAllBytes($attachment, [byte[]]::new(200KB))
        $compiled = Get-FirstSendCompilations $attachment
    }

    It 'was sent' {
        @(Get-SpooledSubject | Where-Object { $_ -eq 'first send' }).Count | Should -Be 1
    }

    It 'compiles next to nothing of MimeKit: the warm-up did (about 330 methods without it)' {
        # What is left: finalizers and the odd method the warm-up's messages do not reach.
        @($compiled | Where-Object { $_ -like 'AosMail.MimeKit.*' }).Count | Should -BeLessOrEqual 25
    }

    It 'compiles nothing of building and form-encoding the message' {
        @($compiled | Where-Object { $_ -match '^AosMail\.Engine\.(AosFormBuilder|AosMessageParts|AosWireText|AosBase64::(FormLines|Layout))' }) | Should -BeNullOrEmpty
    }
}
