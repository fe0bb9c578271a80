# Tab completion as the prompt does it: TabExpansion2 / CommandCompletion.CompleteInput in the
# pwsh that imported the built module. -Priority completes from the enum; -Session from the
# variables that hold an AosSession (real sessions from the sandbox).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function Complete([string] $Line) {
        @([System.Management.Automation.CommandCompletion]::CompleteInput($Line, $Line.Length, $null).CompletionMatches)
    }
    $script:Priorities = 'Highest', 'High', 'Normal', 'Low', 'Lowest'
}

Describe '-Priority completion' {
    It '<Command> -Priority offers the five priority names' -ForEach @(@{ Command = 'Send-AosMessage' }, @{ Command = 'Save-AosDraft' }) {
        $found = Complete "$Command -Priority "
        @($found.CompletionText) | Sort-Object | Should -Be ($Priorities | Sort-Object)
    }

    It 'filters by what is typed, ignoring case' {
        @((Complete 'Send-AosMessage -Priority h').CompletionText) | Sort-Object | Should -Be @('High', 'Highest')
        @((Complete 'Send-AosMessage -Priority LOW').CompletionText) | Sort-Object | Should -Be @('Low', 'Lowest')
    }

    It 'works through TabExpansion2 as well' {
        $line = 'Save-AosDraft -Subject x -Priority N'
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @('Normal')
    }
}

Describe '-Session completion without sessions' {
    BeforeAll { $global:aosNotASession = 'just a string' }
    AfterAll { Remove-Variable -Name aosNotASession -Scope Global -ErrorAction Ignore }

    It 'does not offer a variable that holds something else' {
        @((Complete 'Send-AosMessage -Session ').CompletionText) | Should -Not -Contain '$aosNotASession'
    }
}

Describe '-Session completion with real sessions' {
    BeforeAll {
        $global:aosCompletionFirst = New-TestSession
        Set-Variable -Scope Global -Name 'aos completion second' -Value (New-TestSession)
        $global:aosNotASession = 'just a string'
    }
    AfterAll {
        Remove-Variable -Scope Global -Name aosCompletionFirst, 'aos completion second', aosNotASession -ErrorAction Ignore
    }

    It 'offers the variables that hold a session, and only those' {
        $texts = @((Complete 'Send-AosMessage -To a@b.c -Session ').CompletionText)
        $texts | Should -Contain '$aosCompletionFirst'
        $texts | Should -Contain '${aos completion second}'
        $texts | Should -Not -Contain '$aosNotASession'
        $texts | ForEach-Object { $_ | Should -Match '^\$' }
    }

    It 'quotes a variable name with a space so that it parses' {
        $text = @((Complete 'Save-AosDraft -Session aos').CompletionText) | Where-Object { $_ -like '*second*' }
        $text | Should -Be '${aos completion second}'
        $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput("Save-AosDraft -Session $text", [ref]$null, [ref]$errors)
        $errors | Should -BeNullOrEmpty
        $ast.Find({ $args[0] -is [System.Management.Automation.Language.VariableExpressionAst] }, $true).VariablePath.UserPath | Should -Be 'aos completion second'
    }

    It 'filters by the typed prefix and shows the account in the tooltip' {
        $found = Complete 'Send-AosMessage -Session aosCompletionF'
        @($found.CompletionText) | Should -Be @('$aosCompletionFirst')
        $found[0].ToolTip | Should -Match 'demo@sandbox\.test'
        $found[0].ToolTip | Should -Not -Match 'SID[A-Za-z0-9]{4,}'
    }

    It 'the completed variable is accepted by -Session' {
        $text = @((Complete 'Send-AosMessage -Session aosCompletionF').CompletionText)[0]
        $sb = [scriptblock]::Create("Send-AosMessage -Session $text -To alice@sandbox.test -Subject 'completion' -Body 'x' -WhatIf")
        { & $sb } | Should -Not -Throw
    }
}
