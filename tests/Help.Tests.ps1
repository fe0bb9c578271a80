# The built help, read through Get-Help as a user reads it (MAML and about_ topics built from
# docs/en-US by build/HelpBuilder). No network. A parameter added to a cmdlet without a
# '### -Name' section in its docs page fails here: the cases come from Get-Command, not from the docs.
BeforeDiscovery {
    Import-Module $env:AOS_TEST_MODULE -Force
    $common = [System.Management.Automation.Cmdlet]::CommonParameters
    $commands = @(Get-Command -Module AosMail -CommandType Cmdlet)
    $commandCases = @($commands | ForEach-Object { @{ Name = $_.Name } })
    $parameterCases = @(foreach ($command in $commands) {
        foreach ($p in $command.Parameters.Values) {
            if ($p.Name -in $common) { continue }
            if ($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow }) { continue }
            @{ Command = $command.Name; Parameter = $p.Name }
        }
    })
    $exampleCases = @(foreach ($command in $commands) {
        $i = 0
        foreach ($example in (Get-Help $command.Name -Full).examples.example) {
            $i++
            @{ Command = $command.Name; Index = $i; Code = [string]$example.code }
        }
    })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    # Get-Help -Full is slow; read each cmdlet's help once.
    $script:FullHelp = @{}
    foreach ($command in Get-Command -Module AosMail -CommandType Cmdlet) {
        $script:FullHelp[$command.Name] = Get-Help $command.Name -Full
    }
}

Describe 'Get-Help <Name> -Full' -ForEach $commandCases {
    BeforeAll {
        $help = $script:FullHelp[$Name]
    }

    It 'comes from the built MAML (not the help PowerShell makes up)' {
        # Without MAML, Get-Help invents a synopsis that is the syntax line itself.
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -BeLike "$Name *"
        $help.Synopsis.Trim() | Should -Not -BeLike "$Name"
    }

    It 'has a description' {
        ($help.description.Text -join "`n").Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least three examples, each with code and an explanation' {
        @($help.examples.example).Count | Should -BeGreaterOrEqual 3
        foreach ($example in $help.examples.example) {
            ([string]$example.code).Trim() | Should -Not -BeNullOrEmpty
            ($example.remarks.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        }
    }

    It 'has a syntax for every parameter set' {
        @($help.syntax.syntaxItem).Count | Should -Be @((Get-Command $Name).ParameterSets).Count
    }

    It 'names its output type' {
        $declared = @((Get-Command $Name).OutputType | ForEach-Object Name)   # none for a cmdlet that writes nothing
        $documented = @($help.returnValues.returnValue.type.name)
        foreach ($type in $declared) { $documented | Should -Contain $type }
    }

    It 'links to about_AosMail' {
        @($help.relatedLinks.navigationLink.linkText) | Should -Contain 'about_AosMail'
    }
}

Describe 'Parameter -<Parameter> of <Command>' -ForEach $parameterCases {
    It 'is described in Get-Help' {
        $entry = $script:FullHelp[$Command].parameters.parameter | Where-Object name -EQ $Parameter
        $entry | Should -Not -BeNullOrEmpty -Because "docs/en-US/$Command.md needs a '### -$Parameter' section"
        ($entry.description.Text -join "`n").Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has help metadata that matches the cmdlet (generated, not typed)' {
        $entry = $script:FullHelp[$Command].parameters.parameter | Where-Object name -EQ $Parameter
        $info = (Get-Command $Command).Parameters[$Parameter]
        $required = @($info.ParameterSets.Values | Where-Object IsMandatory).Count -eq $info.ParameterSets.Count
        $entry.required | Should -Be $required.ToString().ToLowerInvariant()
    }
}

Describe 'Example <Index> of <Command>' -ForEach $exampleCases {
    It 'parses without errors' {
        $tokens = $errors = $null
        $null = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref]$tokens, [ref]$errors)
        $errors | Should -BeNullOrEmpty
    }
}

Describe 'Each cmdlet page covers the scenarios users ask for' -ForEach $commandCases {
    It 'has a pipeline-from-CSV example, an HTML/attachment/header or option example, and a stored-credential example' {
        $code = $script:FullHelp[$Name].examples.example.code -join "`n"
        # The message scenarios belong to the cmdlets that compose mail; the stored-credential
        # one to every cmdlet that can log in (-Credential).
        if ($Name -in 'Send-AosMessage', 'Save-AosDraft') {
            $code | Should -Match 'Import-Csv'
            $code | Should -Match '-BodyAsHtml'
            $code | Should -Match '-Attachments'
            $code | Should -Match '-Header'
        }
        if ((Get-Command $Name).Parameters.ContainsKey('Credential')) {
            $code | Should -Match 'Import-Clixml'
        }
    }
}

Describe 'About topics' {
    It 'Get-Help <Topic> shows the topic with its synopsis' -ForEach @(
        @{ Topic = 'about_AosMail' }, @{ Topic = 'about_AosMail_Protocol' }, @{ Topic = 'about_AosMail_Errors' }, @{ Topic = 'about_AosMail_Journal' }
    ) {
        $text = Get-Help $Topic | Out-String
        $text | Should -Match "TOPIC\s+$Topic"
        $text | Should -Match 'SHORT DESCRIPTION'
        (Get-Help $Topic -Category HelpFile | Select-Object -First 1 | Out-String) | Should -Not -BeNullOrEmpty
        $listed = Get-Help 'about_AosMail*' | Where-Object Name -EQ $Topic
        $listed.Synopsis | Should -Not -BeNullOrEmpty
    }

    It 'about_AosMail_Protocol maps every parameter of every cmdlet' {
        $text = Get-Help about_AosMail_Protocol | Out-String
        $common = [System.Management.Automation.Cmdlet]::CommonParameters
        foreach ($command in Get-Command -Module AosMail -CommandType Cmdlet) {
            foreach ($p in $command.Parameters.Values) {
                if ($p.Name -in $common -or $p.Name -eq 'InputObject') { continue }
                $text | Should -Match ([regex]::Escape("-$($p.Name)") + '\b') -Because "-$($p.Name) of $($command.Name) needs a line in about_AosMail_Protocol"
            }
        }
    }

    It 'about_AosMail_Protocol names every AOS field the module sends' {
        $text = Get-Help about_AosMail_Protocol | Out-String
        foreach ($field in 'api', 'name', 'host', 'pswd', 'mid', 'mto', 'mcc', 'mbcc', 'msub', 'body', 'mprio', 'mheader', 'snd', 'svdrf', 'keepcopy') {
            $text | Should -Match "\b$field\b"
        }
    }

    It 'about_AosMail_Errors lists every error id of src/AosMail.Engine/AosErrorIds.cs' {
        $source = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '../src/AosMail.Engine/AosErrorIds.cs')
        $ids = @([regex]::Matches($source, 'const string \w+ = "(Aos\w+)";') | ForEach-Object { $_.Groups[1].Value })
        # Every constant read: a changed declaration must not silently shrink the list.
        $ids.Count | Should -Be ([regex]::Matches($source, '\bconst string\b').Count)
        $ids.Count | Should -BeGreaterThan 0
        $text = Get-Help about_AosMail_Errors | Out-String
        foreach ($id in $ids) {
            $text | Should -Match "\b$id\b" -Because "$id is an error id the module reports"
        }
    }
}
