# The verbose story of a request reaches the user however Verbose is asked for (the switch or the
# preference variable), and stays out of the way when it is off: the cmdlets drop engine lines
# that nobody would see before they reach the pipeline thread.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Session = New-TestSession

    function Get-VerboseLine([scriptblock] $Script) {
        @(& $Script 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
    }
}

Describe 'Verbose output' {
    BeforeEach { Reset-Sandbox }

    It 'tells the story of the request with -Verbose' {
        $lines = Get-VerboseLine { Send-AosMessage -Session $Session -To alice@sandbox.test -Subject 'v1' -Body 'x' -Verbose }
        ($lines -join "`n") | Should -Match 'sdmailact'
        ($lines -join "`n") | Should -Match 'mto'
    }

    It 'tells the same story when $VerbosePreference is Continue' {
        $lines = Get-VerboseLine { $VerbosePreference = 'Continue'; Send-AosMessage -Session $Session -To alice@sandbox.test -Subject 'v2' -Body 'x' }
        ($lines -join "`n") | Should -Match 'sdmailact'
    }

    It 'writes nothing with -Verbose:$false, even when $VerbosePreference is Continue' {
        $lines = Get-VerboseLine { $VerbosePreference = 'Continue'; Send-AosMessage -Session $Session -To alice@sandbox.test -Subject 'v3' -Body 'x' -Verbose:$false }
        $lines.Count | Should -Be 0
    }

    It 'writes nothing by default' {
        $lines = Get-VerboseLine { Send-AosMessage -Session $Session -To alice@sandbox.test -Subject 'v4' -Body 'x' }
        $lines.Count | Should -Be 0
        @(Get-SandboxSpool).Count | Should -Be 1
    }
}
