# What differs on Windows PowerShell 5.1, checked from here (no Windows PowerShell runs on this
# machine; the Framework lane proves the loader and the engine on Mono, docs/windows-powershell.md
# lists what only Windows can prove): the manifest, the format file and the help examples use
# nothing 5.1 lacks (or the example says it needs PowerShell 7), and help is found whatever the UI
# culture. (-Priority's completion is enum completion, which unwraps the nullable type in 5.1's
# sources as in 7's: tests/Completion.Tests.ps1.)
BeforeDiscovery {
    Import-Module $env:AOS_TEST_MODULE -Force
    $root = Split-Path $PSScriptRoot
    $script:ExampleCases = @(foreach ($command in Get-Command -Module AosMail -CommandType Cmdlet) {
        $i = 0
        foreach ($example in (Get-Help $command.Name -Full).examples.example) {
            $i++
            @{ Source = "$($command.Name) example $i"; Title = [string]$example.title; Code = [string]$example.code }
        }
    })
    # The about_ topics' code blocks, from their Markdown source (the built .help.txt is plain text).
    $script:ExampleCases += @(foreach ($file in Get-ChildItem (Join-Path $root 'docs/en-US') -Filter 'about_*.md') {
        $i = 0
        foreach ($match in [regex]::Matches((Get-Content -Raw $file.FullName), '(?ms)^```powershell\r?\n(.*?)^```')) {
            $i++
            @{ Source = "$($file.BaseName) code block $i"; Title = ''; Code = $match.Groups[1].Value }
        }
    })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:ModuleRoot = Split-Path $env:AOS_TEST_MODULE

    # The names of what PowerShell 7 added and 5.1 cannot run: syntax (found in the parse tree) and
    # commands, parameters and variables (by name). Returns one line per use found.
    function Find-Ps7Feature([string] $Code) {
        $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref]$null, [ref]$errors)
        if ($errors) { return "does not parse: $($errors[0].Message)" }
        $only7Commands = 'Join-String', 'Get-Error', 'Test-Json', 'ConvertFrom-Markdown', 'Show-Markdown', 'Get-Uptime',
            'Remove-Alias', 'ConvertTo-CliXml', 'ConvertFrom-CliXml', 'Start-ThreadJob', 'Get-PSSubsystem'
        $only7Parameters = @{
            'ForEach-Object' = 'Parallel', 'ThrottleLimit'; '%' = 'Parallel'; 'foreach' = 'Parallel'
            'ConvertFrom-Json' = 'AsHashtable', 'Depth', 'NoEnumerate'; 'ConvertTo-Json' = 'EnumsAsStrings', 'AsArray'
            'Get-Content' = 'AsByteStream'; 'Set-Content' = 'AsByteStream'; 'Add-Content' = 'AsByteStream'
            'Invoke-WebRequest' = 'SkipCertificateCheck', 'SkipHttpErrorCheck', 'StatusCodeVariable', 'Authentication', 'Token', 'SslProtocol'
            'Invoke-RestMethod' = 'SkipCertificateCheck', 'SkipHttpErrorCheck', 'StatusCodeVariable', 'Authentication', 'Token', 'SslProtocol'
            'Select-String' = 'Raw', 'NoEmphasis'; 'Get-Credential' = 'Title'; 'Test-Connection' = 'TcpPort'
            'Split-Path' = 'LeafBase', 'Extension'; 'Export-Csv' = 'UseQuotes', 'QuoteFields'; 'ConvertTo-Csv' = 'UseQuotes', 'QuoteFields'
        }
        $found = [System.Collections.Generic.List[string]]::new()
        foreach ($node in $ast.FindAll({ $true }, $true)) {
            switch ($node) {
                { $_ -is [System.Management.Automation.Language.TernaryExpressionAst] } { $found.Add("ternary '? :'") }
                { $_ -is [System.Management.Automation.Language.PipelineChainAst] } { $found.Add("pipeline chain '&&' / '||'") }
                { $_ -is [System.Management.Automation.Language.BinaryExpressionAst] -and $_.Operator -eq 'QuestionQuestion' } { $found.Add("'??'") }
                { $_ -is [System.Management.Automation.Language.AssignmentStatementAst] -and $_.Operator -eq 'QuestionQuestionEquals' } { $found.Add("'??='") }
                { ($_ -is [System.Management.Automation.Language.MemberExpressionAst] -or $_ -is [System.Management.Automation.Language.IndexExpressionAst]) -and $_.NullConditional } { $found.Add("null-conditional '?.' / '?[]'") }
                { $_ -is [System.Management.Automation.Language.ScriptBlockAst] -and $_.CleanBlock } { $found.Add("'clean' block") }
                { $_ -is [System.Management.Automation.Language.VariableExpressionAst] -and $_.VariablePath.UserPath -in 'PSStyle', 'IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR' } { $found.Add("`$$($_.VariablePath.UserPath)") }
                { $_ -is [System.Management.Automation.Language.CommandAst] } {
                    $name = $_.GetCommandName()
                    if ($name -in $only7Commands) { $found.Add($name) }
                    foreach ($parameter in $_.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                        if ($parameter.ParameterName -eq 'ProgressAction') { $found.Add('-ProgressAction') }
                        if ($name -and $only7Parameters.ContainsKey($name) -and $parameter.ParameterName -in $only7Parameters[$name]) { $found.Add("$name -$($parameter.ParameterName)") }
                    }
                }
            }
        }
        @($found | Select-Object -Unique)
    }

    # Commands that read or write text files: on 5.1 their default is the ANSI code page (Get-Content,
    # Import-Csv read BOM-less UTF-8 as ANSI) or ASCII / UTF-16 (Set-Content, Export-Csv, Out-File
    # write), so an example that works on 7 garbles non-ASCII text on 5.1. Each must give -Encoding
    # with a name 5.1 knows, or its example must say why not ("without -Encoding" in its title or a comment).
    # Returns one line per use found.
    function Find-FileWithoutEncoding([string] $Code) {
        $textCommands = 'Get-Content', 'gc', 'cat', 'type', 'Set-Content', 'sc', 'Add-Content', 'ac', 'Import-Csv', 'ipcsv', 'Export-Csv', 'epcsv', 'Out-File'
        $names51 = 'UTF8', 'Unicode', 'BigEndianUnicode', 'UTF32', 'BigEndianUTF32', 'UTF7', 'ASCII', 'Default', 'OEM', 'String', 'Byte'
        if ($Code -match 'without -Encoding') { return }
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref]$null, [ref]$null)
        foreach ($command in $ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.CommandAst] }, $true)) {
            $name = $command.GetCommandName()
            if ($name -notin $textCommands) { continue }
            $elements = @($command.CommandElements)
            $at = @(0..($elements.Count - 1) | Where-Object { $elements[$_] -is [System.Management.Automation.Language.CommandParameterAst] -and $elements[$_].ParameterName -like 'Enc*' })
            if ($at.Count -eq 0) { "$name without -Encoding"; continue }
            $value = if ($elements[$at[0]].Argument) { $elements[$at[0]].Argument } elseif ($at[0] + 1 -lt $elements.Count) { $elements[$at[0] + 1] }
            if ($value -isnot [System.Management.Automation.Language.StringConstantExpressionAst] -or $value.Value -notin $names51) {
                "$name -Encoding $value (not a name Windows PowerShell 5.1 knows: $($names51 -join ', '))"
            }
        }
    }
}

Describe 'The detector of text files read or written without -Encoding' {
    It 'finds <Code>' -ForEach @(
        @{ Code = 'Get-Content -Raw ./letter.txt | Send-AosMessage -To a@b.c' }
        @{ Code = 'Import-Csv ./rows.csv | Send-AosMessage' }
        @{ Code = 'Send-AosMessage -PassThru | Export-Csv -Path ./sent.csv' }
        @{ Code = '"x" | Set-Content -Path ./a.txt' }
        @{ Code = '"x" | Out-File ./a.txt' }
        @{ Code = '"x" | Set-Content -Path ./a.txt -Encoding utf8NoBOM' }
    ) {
        Find-FileWithoutEncoding $Code | Should -Not -BeNullOrEmpty
    }

    It 'passes <Code>' -ForEach @(
        @{ Code = 'Import-Csv ./rows.csv -Encoding UTF8 | Send-AosMessage' }
        @{ Code = '"x" | Set-Content -Path ./a.txt -Encoding utf8' }
        @{ Code = 'Get-Content -Raw -Encoding:UTF8 ./letter.txt' }
        @{ Code = 'Send-AosMessage -BodyPath ./letter.txt -To a@b.c' }
        @{ Code = "Get-Content ./ids.txt  # ASCII ids: without -Encoding on purpose" }
    ) {
        Find-FileWithoutEncoding $Code | Should -BeNullOrEmpty
    }
}

Describe 'The detector of PowerShell 7 features' {
    It 'finds <Feature>' -ForEach @(
        @{ Feature = 'a ternary'; Code = '$a ? 1 : 2' }
        @{ Feature = '&&'; Code = 'Get-Date && Get-Date' }
        @{ Feature = '??'; Code = '$a ?? 1' }
        @{ Feature = '?.'; Code = '${a}?.Name' }
        @{ Feature = 'ForEach-Object -Parallel'; Code = '1..3 | ForEach-Object -Parallel { $_ }' }
        @{ Feature = '-ProgressAction'; Code = 'Send-AosMessage -To a@b.c -ProgressAction SilentlyContinue' }
        @{ Feature = 'ConvertFrom-Json -AsHashtable'; Code = '"{}" | ConvertFrom-Json -AsHashtable' }
        @{ Feature = 'Get-Content -AsByteStream'; Code = 'Get-Content x -AsByteStream' }
        @{ Feature = '$PSStyle'; Code = '$PSStyle.Reset' }
    ) {
        Find-Ps7Feature $Code | Should -Not -BeNullOrEmpty
    }

    It 'passes what 5.1 runs' {
        Find-Ps7Feature 'Import-Csv rows.csv | Send-AosMessage -Session $s -Confirm:$false; if ($?) { "ok" } else { "no" }' | Should -BeNullOrEmpty
        Find-Ps7Feature 'New-AosSession -Server https://x -Credential $c -SkipCertificateCheck' | Should -BeNullOrEmpty
    }
}

Describe 'Help examples on Windows PowerShell 5.1' {
    It '<Source> reads and writes text files as UTF-8 on 5.1 too, or says why not' -ForEach $ExampleCases {
        if ($Title -match 'without -Encoding') { return }
        @(Find-FileWithoutEncoding $Code) | Should -BeNullOrEmpty -Because 'Windows PowerShell 5.1 reads and writes such files as ANSI, ASCII or UTF-16 unless told'
    }

    It '<Source> runs on 5.1, or says it needs PowerShell 7' -ForEach $ExampleCases {
        $features = @(Find-Ps7Feature $Code)
        if ($features.Count -gt 0) {
            "$Title`n$Code" | Should -Match 'PowerShell 7' -Because "it uses $($features -join ', '), which Windows PowerShell 5.1 lacks"
        }
    }
}

Describe 'The manifest for Windows PowerShell 5.1' {
    BeforeAll {
        $script:Manifest = Import-PowerShellDataFile -LiteralPath $env:AOS_TEST_MODULE
    }

    It 'asks for PowerShell 5.1 and declares both editions' {
        $Manifest.PowerShellVersion | Should -Be '5.1'
        $Manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
    }

    It 'asks for .NET Framework 4.7.1, the first with netstandard2.0 built in and ServerCertificateCustomValidationCallback' {
        $Manifest.DotNetFrameworkVersion | Should -Be '4.7.1'
    }

    It 'uses only keys that Windows PowerShell 5.1 knows' {
        $known51 = 'RootModule', 'ModuleVersion', 'CompatiblePSEditions', 'GUID', 'Author', 'CompanyName', 'Copyright', 'Description',
            'PowerShellVersion', 'PowerShellHostName', 'PowerShellHostVersion', 'DotNetFrameworkVersion', 'CLRVersion', 'ProcessorArchitecture',
            'RequiredModules', 'RequiredAssemblies', 'ScriptsToProcess', 'TypesToProcess', 'FormatsToProcess', 'NestedModules',
            'FunctionsToExport', 'CmdletsToExport', 'VariablesToExport', 'AliasesToExport', 'DscResourcesToExport', 'ModuleList', 'FileList',
            'PrivateData', 'HelpInfoURI', 'DefaultCommandPrefix'
        $Manifest.Keys | Where-Object { $_ -notin $known51 } | Should -BeNullOrEmpty
    }

    It 'is data 5.1 reads: no PowerShell 7 syntax' {
        Find-Ps7Feature (Get-Content -Raw -LiteralPath $env:AOS_TEST_MODULE) | Should -BeNullOrEmpty
    }
}

Describe 'The format file on Windows PowerShell 5.1' {
    It 'has script blocks that 5.1 can run' {
        $blocks = @(([xml](Get-Content -Raw (Join-Path $ModuleRoot 'AosMail.Format.ps1xml'))).SelectNodes('//ScriptBlock') | ForEach-Object InnerText)
        $blocks.Count | Should -BeGreaterThan 0
        foreach ($block in $blocks) {
            Find-Ps7Feature $block | Should -BeNullOrEmpty -Because "this script block runs in 5.1 too: $block"
        }
    }
}

Describe 'Help whatever the UI culture' {
    # PowerShell looks for help in the UI culture's folder, its parents, then en-US and en (the
    # same MUI search in 5.1's sources); the module ships en-US only. A fresh process per culture.
    It 'Get-Help finds the en-US help under <Culture>' -ForEach @(@{ Culture = 'de-DE' }, @{ Culture = 'ja-JP' }) {
        $expected = (Get-Help Send-AosMessage).Synopsis.Trim()
        $lines = @(Invoke-ChildPwsh -Command @"
[System.Globalization.CultureInfo]::CurrentUICulture = '$Culture'
Import-Module '$($env:AOS_TEST_MODULE)'
'culture=' + [System.Globalization.CultureInfo]::CurrentUICulture.Name
'synopsis=' + (Get-Help Send-AosMessage).Synopsis.Trim()
'about=' + [bool](Get-Help about_AosMail | Out-String | Select-String 'AosMail')
"@)
        $lines | Should -Contain "culture=$Culture"
        $lines | Should -Contain "synopsis=$expected"
        $lines | Should -Contain 'about=True'
    }
}
