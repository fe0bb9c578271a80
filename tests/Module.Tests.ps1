BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:ManifestPath = $env:AOS_TEST_MODULE
    $script:Manifest = Import-PowerShellDataFile -LiteralPath $ManifestPath
}

Describe 'The AosMail module' {
    It 'imports from the built manifest at the manifest version' {
        $module = Get-Module AosMail
        $module | Should -Not -BeNullOrEmpty
        $module.Version | Should -Be ([version]$Manifest.ModuleVersion)
        $module.Path | Should -BeLike "$(Split-Path $ManifestPath)*"
    }

    It 'exports exactly the cmdlets the manifest names' {
        $exported = (Get-Command -Module AosMail).Name | Sort-Object
        $exported | Should -Be ($Manifest.CmdletsToExport | Sort-Object)
    }

    It 'names no wildcard in its exports' {
        foreach ($key in 'CmdletsToExport', 'FunctionsToExport', 'AliasesToExport', 'VariablesToExport') {
            $Manifest[$key] | Where-Object { $_ -match '\*' } | Should -BeNullOrEmpty
        }
    }
}
