# The .NET Framework check that Windows PowerShell runs before it loads AosMail.dll
# (AosMail.FrameworkCheck.dll, the manifest's nested module, src/AosMail.FrameworkCheck), fed release
# numbers as the registry gives them. No Windows PowerShell runs here: its registry read and its
# import are listed in docs/windows-powershell.md, "Checking it on Windows"; the Framework lane runs
# the check's Windows PowerShell path on Mono.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:CheckDll = Join-Path (Split-Path $env:AOS_TEST_MODULE) 'AosMail.FrameworkCheck.dll'
    # Imported with the module (its nested module), so the type is there.
    $script:Check = [AosMail.FrameworkCheck.DotNetFrameworkCheck]
}

Describe 'The .NET Framework check before the import' {
    # Every boundary of the table: each version's lowest release, and the release just below it.
    It 'stops on release <Release>, naming <Installed> and what to install' -ForEach @(
        @{ Release = 461307; Installed = '.NET Framework 4.7 (release 461307)' }
        @{ Release = 460798; Installed = '.NET Framework 4.7 (release 460798)' }
        @{ Release = 460797; Installed = '.NET Framework 4.6.2 (release 460797)' }
        @{ Release = 394802; Installed = '.NET Framework 4.6.2 (release 394802)' }
        @{ Release = 394801; Installed = '.NET Framework 4.6.1 (release 394801)' }
        @{ Release = 394254; Installed = '.NET Framework 4.6.1 (release 394254)' }
        @{ Release = 394253; Installed = '.NET Framework 4.6 (release 394253)' }
        @{ Release = 393295; Installed = '.NET Framework 4.6 (release 393295)' }
        @{ Release = 393294; Installed = '.NET Framework 4.5.2 (release 393294)' }
        @{ Release = 379893; Installed = '.NET Framework 4.5.2 (release 379893)' }
        @{ Release = 379892; Installed = '.NET Framework 4.5.1 (release 379892)' }
        @{ Release = 378675; Installed = '.NET Framework 4.5.1 (release 378675)' }
        @{ Release = 378674; Installed = '.NET Framework 4.5 (release 378674)' }
        @{ Release = 378389; Installed = '.NET Framework 4.5 (release 378389)' }
        @{ Release = 378388; Installed = 'no .NET Framework 4.5 or later' }
        @{ Release = 0; Installed = 'no .NET Framework 4.5 or later' }
    ) {
        $thrown = { $Check::Require($Release) } | Should -Throw -PassThru
        # A method call wraps what it throws; Import-Module reports the inner error record as it is.
        $record = $thrown.Exception.InnerException.ErrorRecord
        $record.FullyQualifiedErrorId | Should -Be 'AosDotNetFrameworkTooOld'
        $record.CategoryInfo.Category | Should -Be 'NotInstalled'
        $record.TargetObject | Should -Be $Release
        $record.Exception | Should -BeOfType System.PlatformNotSupportedException
        $record.Exception.Message | Should -Be ("AosMail needs .NET Framework 4.7.1 or later (release 461308 or higher), and this computer has $Installed. " +
            'Install .NET Framework 4.8 (https://dotnet.microsoft.com/download/dotnet-framework/net48) and restart Windows, ' +
            'or use AosMail from PowerShell 7 (https://aka.ms/powershell), which brings its own .NET.')
    }

    It 'lets <Name> through' -ForEach @(
        @{ Name = '4.7.1 (release 461308)'; Release = 461308 }
        @{ Name = '4.7.2 (release 461808)'; Release = 461808 }
        @{ Name = '4.8 (release 528040)'; Release = 528040 }
        @{ Name = '4.8.1 (release 533320)'; Release = 533320 }
        @{ Name = 'a runtime without the .NET Framework setup key (Mono)'; Release = $null }
    ) {
        $Check::Problem($Release) | Should -BeNullOrEmpty
        { $Check::Require($Release) } | Should -Not -Throw
    }

    It 'stops Import-Module with that error record, before the root module' {
        # The stop as PowerShell's import meets it: a nested module whose OnImport asks the check
        # about release 394802 (Windows Server 2016's 4.6.2), in a copy of the built module. On
        # PowerShell 7 the real check returns before the registry, so this probe stands in for the
        # registry's answer; the import code that calls it is the one Windows PowerShell has.
        $copy = Join-Path $TestDrive 'Probe/AosMail'
        $null = New-Item -ItemType Directory -Force (Split-Path $copy)
        Copy-Item -Recurse -LiteralPath (Split-Path $env:AOS_TEST_MODULE) -Destination $copy
        # The check is named at run time: compiled against it, the probe would need .NET Framework's
        # reference assemblies (the check's mscorlib and PowerShell 3.0.0.0) beside this runtime's.
        Add-Type -OutputAssembly (Join-Path $copy 'ReleaseProbe.dll') -TypeDefinition @'
public sealed class ReleaseProbe : System.Management.Automation.IModuleAssemblyInitializer
{
    public void OnImport()
    {
        var require = System.Type.GetType("AosMail.FrameworkCheck.DotNetFrameworkCheck, AosMail.FrameworkCheck", true).GetMethod("Require");
        try { require.Invoke(null, new object[] { 394802 }); }
        catch (System.Reflection.TargetInvocationException e) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw(); }
    }
}
'@
        $manifest = Join-Path $copy 'AosMail.psd1'
        (Get-Content -Raw -LiteralPath $manifest) -replace "NestedModules\s*=\s*@\('AosMail.FrameworkCheck.dll'\)", "NestedModules = @('AosMail.FrameworkCheck.dll', 'ReleaseProbe.dll')" |
            Set-Content -LiteralPath $manifest -NoNewline
        (Get-Content -Raw -LiteralPath $manifest) | Should -Match 'ReleaseProbe'

        $lines = @(Invoke-ChildPwsh -Command @"
try { Import-Module '$manifest' -ErrorAction Stop; 'imported' }
catch { 'id=' + `$_.FullyQualifiedErrorId; 'category=' + `$_.CategoryInfo.Category; 'target=' + `$_.TargetObject; 'message=' + `$_.Exception.Message }
'module=' + @(Get-Module AosMail).Count
'cmdlet=' + @(Get-Command Send-AosMessage -ErrorAction Ignore).Count
"@)
        $lines | Should -Contain 'id=AosDotNetFrameworkTooOld,Microsoft.PowerShell.Commands.ImportModuleCommand'
        $lines | Should -Contain 'category=NotInstalled'
        $lines | Should -Contain 'target=394802'
        $lines | Should -Contain 'message=AosMail needs .NET Framework 4.7.1 or later (release 461308 or higher), and this computer has .NET Framework 4.6.2 (release 394802). Install .NET Framework 4.8 (https://dotnet.microsoft.com/download/dotnet-framework/net48) and restart Windows, or use AosMail from PowerShell 7 (https://aka.ms/powershell), which brings its own .NET.'
        $lines | Should -Contain 'module=0'
        $lines | Should -Contain 'cmdlet=0'
    }

    It 'does none of its work on PowerShell 7: OnImport returns before the registry' {
        # Reading the registry fails on this runtime (Linux), so a check that went on to read it
        # would fail OnImport, and with it every import of the module.
        { $Check::InstalledRelease() } | Should -Throw
        { $Check::new().OnImport() } | Should -Not -Throw
        $lines = @(Invoke-ChildPwsh -Command @"
Import-Module '$($env:AOS_TEST_MODULE)' -ErrorAction Stop
'loaded=' + @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'AosMail.FrameworkCheck' }).Count
"@)
        $lines | Should -Contain 'loaded=1'
    }

    It 'leaves nothing behind in the importer''s scope, and the module keeps its shape' {
        $lines = @(Invoke-ChildPwsh -Command @"
`$before = @(Get-Variable).Name
`$imported = @(Import-Module '$($env:AOS_TEST_MODULE)' -PassThru)
'new=' + ((@(Get-Variable).Name | Where-Object { `$_ -notin `$before -and `$_ -notin 'before', 'imported' }) -join ',')
'passthru=' + (@(`$imported | ForEach-Object { "`$(`$_.Name):`$(`$_.ModuleType)" }) -join ',')
'listed=' + (@(Get-Module | Where-Object Name -like 'AosMail*').Name -join ',')
'nested=' + (@((Get-Module AosMail).NestedModules | ForEach-Object { "`$(`$_.Name):`$(`$_.ModuleType)" }) -join ',')
'commands=' + (@((Get-Module AosMail).ExportedCommands.Values | ForEach-Object { "`$(`$_.Name):`$(`$_.CommandType)" } | Sort-Object) -join ',')
'nestedcommands=' + @((Get-Module AosMail).NestedModules.ExportedCommands.Keys).Count
"@)
        $lines | Should -Contain 'new='
        $lines | Should -Contain 'passthru=AosMail:Binary'
        $lines | Should -Contain 'listed=AosMail'
        $lines | Should -Contain 'nested=AosMail.FrameworkCheck:Binary'
        $lines | Should -Contain ('commands=' + ((
                    'Get-AosMailbox', 'Get-AosMessage', 'Get-AosSession', 'New-AosSession', 'Remove-AosSession', 'Save-AosDraft', 'Save-AosMessage', 'Send-AosMessage', 'Test-AosSession' |
                        ForEach-Object { "${_}:Cmdlet" }) -join ','))
        $lines | Should -Contain 'nestedcommands=0'
    }
}
