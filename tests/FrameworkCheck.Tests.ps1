# The .NET Framework check that Windows PowerShell runs before it loads AosMail.dll
# (AosMail.FrameworkCheck.ps1, a nested module of the manifest), fed release numbers as the registry
# gives them. No Windows PowerShell runs here: the registry read and 5.1's import of the script are
# listed in docs/windows-powershell.md, "Checking it on Windows".
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Check = Join-Path (Split-Path $env:AOS_TEST_MODULE) 'AosMail.FrameworkCheck.ps1'
}

Describe 'The .NET Framework check before the import' {
    It 'stops on <Name> (release <Release>), naming it and what to install' -ForEach @(
        @{ Name = '4.6.2, as stock Windows Server 2016 has'; Release = 394802; Installed = '.NET Framework 4.6.2 (release 394802)' }
        @{ Name = '4.7'; Release = 460805; Installed = '.NET Framework 4.7 (release 460805)' }
        @{ Name = '4.6.1'; Release = 394271; Installed = '.NET Framework 4.6.1 (release 394271)' }
        @{ Name = '4.5'; Release = 378389; Installed = '.NET Framework 4.5 (release 378389)' }
        @{ Name = 'no 4.5 or later'; Release = 0; Installed = 'no .NET Framework 4.5 or later' }
    ) {
        $thrown = { & $Check $Release } | Should -Throw -PassThru
        $thrown.FullyQualifiedErrorId | Should -BeLike 'AosDotNetFrameworkTooOld*'
        $thrown.CategoryInfo.Category | Should -Be 'NotInstalled'
        $thrown.TargetObject | Should -Be $Release
        $thrown.Exception.Message | Should -BeLike "AosMail needs .NET Framework 4.7.1 or later*this computer has $Installed. Install .NET Framework 4.8 *PowerShell 7*"
    }

    It 'lets <Name> (release <Release>) through' -ForEach @(
        @{ Name = '4.7.1'; Release = 461308 }, @{ Name = '4.7.2'; Release = 461808 }, @{ Name = '4.8'; Release = 528040 }, @{ Name = '4.8.1'; Release = 533320 }
    ) {
        @(& $Check $Release) | Should -BeNullOrEmpty
    }

    It 'reads no registry on PowerShell 7' {
        Mock Get-ItemProperty { [pscustomobject]@{ Release = 394802 } }
        @(& $Check) | Should -BeNullOrEmpty
        Should -Invoke Get-ItemProperty -Times 0 -Exactly
    }

    It 'leaves nothing behind in the importer''s scope, and the module keeps its shape' {
        $lines = @(Invoke-ChildPwsh -Command @"
`$before = @(Get-Variable).Name
`$imported = @(Import-Module '$($env:AOS_TEST_MODULE)' -PassThru)
'new=' + ((@(Get-Variable).Name | Where-Object { `$_ -notin `$before -and `$_ -notin 'before', 'imported' }) -join ',')
'passthru=' + (@(`$imported | ForEach-Object { "`$(`$_.Name):`$(`$_.ModuleType)" }) -join ',')
'listed=' + (@(Get-Module | Where-Object Name -like 'AosMail*').Name -join ',')
'nested=' + (@((Get-Module AosMail).NestedModules).Name -join ',')
'functions=' + @(Get-Command -Module AosMail -CommandType Function).Count
"@)
        $lines | Should -Contain 'new='
        $lines | Should -Contain 'passthru=AosMail:Binary'
        $lines | Should -Contain 'listed=AosMail'
        $lines | Should -Contain 'nested=AosMail.FrameworkCheck'
        $lines | Should -Contain 'functions=0'
    }
}
