# The sandbox's uneven latency (docs/sandbox.md "A far-away server"): a share of slow requests,
# spread evenly and repeatable, and uniform jitter; from the command line and from the options.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    function Invoke-Probe([string] $BaseUri, [int] $Count) {
        # Requests the sandbox answers at once apart from its latency (an unknown session).
        foreach ($n in 1..$Count) { $null = Invoke-AosRaw -BaseUri $BaseUri -Path 'sqVry.user.mms' -Form @{ sid = 'SIDx' } }
    }
}

Describe 'Sandbox uneven latency' {
    BeforeEach { Reset-Sandbox }
    AfterAll { Reset-Sandbox }

    It 'makes exactly every (100 / slowPercent)-th request slow, counted from the change of the option' {
        $options = Set-SandboxOption -LatencyMs 10 -SlowPercent 25 -SlowMs 400
        $options.slowPercent | Should -Be 25
        $options.slowMs | Should -Be 400
        Invoke-Probe $Sandbox.BaseUri 8

        $durations = @(Get-SandboxRequest | Sort-Object Seq | ForEach-Object DurationMs)
        $durations.Count | Should -Be 8
        $slow = @(0..7 | Where-Object { $durations[$_] -ge 400 })
        $slow | Should -Be @(3, 7) -Because "the 4th and 8th requests are slow: $($durations -join ', ')"
        @(0..7 | Where-Object { $slow -notcontains $_ } | ForEach-Object { $durations[$_] } | Where-Object { $_ -ge 300 }) | Should -BeNullOrEmpty
    }

    It 'adds a uniform 0 to jitterMs to each request, and a reset clears it' {
        $null = Set-SandboxOption -JitterMs 200
        Invoke-Probe $Sandbox.BaseUri 20
        $durations = @(Get-SandboxRequest | ForEach-Object DurationMs)
        $spread = ($durations | Measure-Object -Maximum).Maximum - ($durations | Measure-Object -Minimum).Minimum
        $spread | Should -BeGreaterThan 40 -Because "20 uniform draws from 0 to 200 ms spread out: $($durations -join ', ')"
        ($durations | Measure-Object -Maximum).Maximum | Should -BeLessThan 600

        Reset-Sandbox
        $options = Invoke-RestMethod -Uri "$($Sandbox.BaseUri)/_sandbox/options"
        $options.jitterMs | Should -Be 0
        $options.slowPercent | Should -Be 0
    }

    It 'refuses a share outside 0 to 100' {
        $failure = { Invoke-RestMethod -Method Post -Uri "$($Sandbox.BaseUri)/_sandbox/options" -ContentType 'application/json' -Body '{"slowPercent":101}' } | Should -Throw -PassThru
        $failure.ErrorDetails.Message | Should -BeLike '*slowPercent must be from 0 to 100*'
    }

    It 'takes the options from the command line' {
        Import-Module (Join-Path $PSScriptRoot '../build/AosSandbox.psm1') -Force
        $log = Join-Path $TestDrive 'uneven.log'
        $second = Start-AosSandbox -SandboxPath $env:AOS_SANDBOX_DLL -LogPath $log -ArgumentList '--latency-ms', '5', '--slow-percent', '50', '--slow-ms', '300', '--jitter-ms', '10'
        try {
            $base = $second.BaseUri.AbsoluteUri.TrimEnd('/')
            $info = Invoke-RestMethod -Uri "$base/_sandbox/info"
            $info.slowPercent | Should -Be 50
            $info.slowMs | Should -Be 300
            $info.jitterMs | Should -Be 10
            $watch = [Diagnostics.Stopwatch]::StartNew()
            Invoke-Probe $base 2
            $watch.ElapsedMilliseconds | Should -BeGreaterOrEqual 300 -Because 'the second request is slow'
        }
        finally {
            $second | Stop-AosSandbox
        }
    }
}
