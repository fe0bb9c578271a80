#Requires -Version 7.2
<#
.SYNOPSIS
    AosMail's build front door.
.DESCRIPTION
    Tasks:
      Build    compile the solution and assemble the importable module in out/AosMail/,
               help included (MAML and about_ topics built from docs/en-US/*.md)
      Docs     rebuild only the help of an already built module (fast, for editing docs/en-US)
      Package  Build, then publish out/AosMail as out/package/AosMail.<version>.nupkg
               (Publish-PSResource to a temporary file repository)
      Test     Build and package, then run the engine and sandbox unit tests and the Pester suite against the sandbox,
               and the Framework lane when mono is installed (always in CI); ends with the line
               "N passed, N failed" and exits non-zero on any failure. -Lane Engine,Pester,Framework
               picks lanes (all by default); -TestName picks Pester files; -Repeat N runs the Pester lane
               N times in a row (a fresh sandbox each time) and stops at the first run with a failure
      FrameworkTest
               Build, then the Framework lane alone: Windows PowerShell 5.1's runtime path, on Mono (Debian:
               apt-get install mono-devel). The engine tests built for net472 run under Mono's xunit
               console runner; tests/AosMail.FrameworkTests imports the built module through its loader
               (AssemblyResolve, bin/) and sends, saves drafts and reads them back against the sandbox
      Bench    Build, then run the end-to-end benchmarks (bench/Bench.ps1) against a fresh sandbox: each
               figure is a ratio to a baseline measured in the same run, printed with its target;
               exits non-zero when a target is missed. -Smoke: a small run that only checks it works.
               -Micro: the BenchmarkDotNet micro-benchmarks (bench/AosMail.Benchmarks) instead
      Demo     Build, then start the sandbox and run the main job through the cmdlets
      Sandbox  Build, then run the AOS sandbox in the foreground; it prints its address and its mail
               viewer's (open that in a browser). Ctrl+C stops it
      Clean    remove every build output
    Run it with the pinned PowerShell: dotnet tool restore && dotnet pwsh ./build.ps1 Test
.EXAMPLE
    dotnet pwsh ./build.ps1 Test -TestName *Send*
.EXAMPLE
    dotnet pwsh ./build.ps1 Test -Lane Pester -TestName *Transfer*,*Compose*,*Bulk* -Repeat 20
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Docs', 'Package', 'Test', 'FrameworkTest', 'Bench', 'Demo', 'Sandbox', 'Clean')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Test: run only the Pester files whose names match these wildcards (e.g. *Send*).
    [string[]] $TestName = '*',

    # Test: run only these lanes (all three by default, as CI does). While working on one part,
    # -Lane Pester -TestName *Send* runs one suite without the engine tests and the Mono lane.
    [ValidateSet('Engine', 'Pester', 'Framework')]
    [string[]] $Lane = @('Engine', 'Pester', 'Framework'),

    # Test: run the Pester lane this many times in a row, each against a fresh sandbox, stopping at
    # the first run with a failure: how a suspected flaky suite is shown steady (-Repeat 20 -TestName *Transfer*).
    [ValidateRange(1, 1000)]
    [int] $Repeat = 1,

    # Sandbox: arguments passed through to the sandbox (e.g. --port 8025).
    [string[]] $SandboxArgument = @(),

    # Bench: 20 messages and a 5 MB attachment; checks that the benchmarks run, not their targets.
    [switch] $Smoke,

    # Bench: run the BenchmarkDotNet micro-benchmarks (encoder, MIME body) instead.
    [switch] $Micro
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'AosMail'
$ManifestPath = Join-Path $Root 'AosMail.psd1'
$SandboxDll = Join-Path $Root "src/AosMail.Sandbox/bin/$Configuration/net10.0/AosMail.Sandbox.dll"
$ResultsDir = Join-Path $Out 'test-results'
$PackageOut = Join-Path $Out 'package'
$HelpBuilderDll = Join-Path $Root "build/HelpBuilder/bin/$Configuration/net10.0/HelpBuilder.dll"
$AssemblyRenamerDll = Join-Path $Root "build/AssemblyRenamer/bin/$Configuration/net10.0/AssemblyRenamer.dll"

function Invoke-Native {
    # Runs a native command and stops the build when it fails. A simple function on purpose:
    # $args passes "-v:quiet" and friends through untouched by common-parameter binding.
    $file, $rest = $args
    & $file @rest
    if ($LASTEXITCODE -ne 0) { throw "'$file $($rest -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Assert-Prerequisite {
    if (-not (Get-Command dotnet -ErrorAction Ignore)) {
        throw 'The .NET SDK (dotnet) is not on PATH. Install the .NET 10 SDK, then run: dotnet tool restore && dotnet pwsh ./build.ps1 Test'
    }
    $sdk = (& dotnet --version) -as [string]
    if (-not $sdk -or [version]($sdk -replace '-.*$') -lt [version]'10.0') {
        throw "AosMail builds with the .NET 10 SDK; found '$sdk'."
    }
}

function Get-ModuleVersion {
    (Import-PowerShellDataFile -LiteralPath $ManifestPath).ModuleVersion
}

function Invoke-Build {
    Assert-Prerequisite
    $version = Get-ModuleVersion
    Write-Host "Building AosMail $version ($Configuration)" -ForegroundColor Cyan
    Invoke-Native dotnet build (Join-Path $Root 'AosMail.sln') -c $Configuration "-p:Version=$version" -nologo '-v:quiet' '-clp:NoSummary'

    # The importable module: manifest and cmdlet assembly at the top; the engine and every
    # third-party assembly in bin/, where only the module's own loader finds them (isolation).
    if (Test-Path $ModuleOut) { Remove-Item -Recurse -Force $ModuleOut }
    $null = New-Item -ItemType Directory -Force $ModuleOut, (Join-Path $ModuleOut 'bin')
    $bin = Join-Path $Root "src/AosMail/bin/$Configuration/netstandard2.0"
    Copy-Item -LiteralPath (Join-Path $bin 'AosMail.dll') -Destination $ModuleOut
    Get-ChildItem -LiteralPath $bin -Filter '*.dll' | Where-Object Name -ne 'AosMail.dll' |
        Copy-Item -Destination (Join-Path $ModuleOut 'bin')
    Rename-PrivateMimeKit $ModuleOut
    Copy-Item -LiteralPath $ManifestPath -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $Root 'LICENSE') -Destination $ModuleOut
    Get-ChildItem -Path (Join-Path $Root 'src/AosMail') -Filter '*.ps1xml' | Copy-Item -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $Root "src/AosMail.FrameworkCheck/bin/$Configuration/net462/AosMail.FrameworkCheck.dll") -Destination $ModuleOut
    Build-Help
    Write-Host "Module ready: $(Join-Path $ModuleOut 'AosMail.psd1')" -ForegroundColor Green
}

function Rename-PrivateMimeKit {
    # Windows PowerShell has one AppDomain for all modules and finds [MimeKit.MimeMessage] in the first
    # assembly that has it: our copy becomes AosMail.MimeKit (namespaces AosMail.MimeKit.*), and what
    # references it in the folder is pointed there (build/AssemblyRenamer; docs/architecture.md, "Loading").
    param([string] $Folder)
    Invoke-Native dotnet $AssemblyRenamerDll $Folder MimeKit AosMail.MimeKit | Out-Host
}

function Build-Help {
    # The help is built, never committed: the cmdlets' metadata (from the built module, in a child
    # pwsh) plus the prose in docs/en-US/*.md, joined by build/HelpBuilder (Markdig). See docs/help-format.md.
    $metadata = Join-Path $Out 'obj/commands.json'
    Invoke-Native dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $Root 'build/Export-CommandMetadata.ps1') `
        -ModulePath (Join-Path $ModuleOut 'AosMail.psd1') -OutputPath $metadata
    $helpOut = Join-Path $ModuleOut 'en-US'
    if (Test-Path $helpOut) { Remove-Item -Recurse -Force $helpOut }
    Invoke-Native dotnet $HelpBuilderDll --docs (Join-Path $Root 'docs/en-US') --metadata $metadata --out $helpOut --help-file 'AosMail.dll-Help.xml'
}

function Invoke-Docs {
    if (-not (Test-Path (Join-Path $ModuleOut 'AosMail.dll'))) { Invoke-Build; return }
    Invoke-Native dotnet build (Join-Path $Root 'build/HelpBuilder') -c $Configuration -nologo '-v:quiet' '-clp:NoSummary'
    Build-Help
}

function New-ModulePackage {
    # Publishes the built module folder to a temporary file repository: the .nupkg a gallery would get.
    $version = Get-ModuleVersion
    if (Test-Path $PackageOut) { Remove-Item -Recurse -Force $PackageOut }
    $null = New-Item -ItemType Directory -Force $PackageOut
    Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
    $repository = 'AosMailBuild-' + [guid]::NewGuid().ToString('n').Substring(0, 12)
    Register-PSResourceRepository -Name $repository -Uri $PackageOut -Trusted
    try {
        Publish-PSResource -Path $ModuleOut -Repository $repository
    }
    finally {
        Unregister-PSResourceRepository -Name $repository
    }
    $package = Join-Path $PackageOut "AosMail.$version.nupkg"
    if (-not (Test-Path -LiteralPath $package)) { throw "Publish-PSResource did not produce '$package'." }
    Write-Host "Package ready: $package" -ForegroundColor Green
    $package
}

function Invoke-Package {
    Invoke-Build
    $null = New-ModulePackage
}

function Get-NuGetPackageRoot {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    $line = & dotnet nuget locals global-packages --list
    ($line -replace '^global-packages:\s*', '').Trim()
}

function Get-TestTool {
    # Restores the test tools pinned in build/tools.psd1 and returns the files the tests load:
    # Pester's manifest and Playwright's assembly (its driver sits in the package beside it).
    $versions = Import-PowerShellDataFile -LiteralPath (Join-Path $Root 'build/tools.psd1')
    Invoke-Native dotnet restore (Join-Path $Root 'build/Tools.proj') "-p:PesterVersion=$($versions.Pester)" `
        "-p:PlaywrightVersion=$($versions.Playwright)" -nologo '-v:quiet'
    $packages = Get-NuGetPackageRoot
    $tools = [ordered]@{
        Pester     = Join-Path $packages "pester/$($versions.Pester)/tools/Pester.psd1"
        Playwright = Join-Path $packages "microsoft.playwright/$($versions.Playwright)/lib/netstandard2.0/Microsoft.Playwright.dll"
    }
    foreach ($name in $tools.Keys) {
        if (-not (Test-Path -LiteralPath $tools[$name])) { throw "$name was restored but '$($tools[$name])' is missing." }
    }
    [pscustomobject]$tools
}

function Find-Chromium {
    # The browser of the browser tests: AOS_CHROMIUM if set, else a Chromium on PATH (Debian: apt-get install chromium).
    if ($env:AOS_CHROMIUM) {
        if (-not (Test-Path -LiteralPath $env:AOS_CHROMIUM)) { throw "AOS_CHROMIUM names '$env:AOS_CHROMIUM', which does not exist." }
        return $env:AOS_CHROMIUM
    }
    Get-Command chromium, chromium-browser -CommandType Application -ErrorAction Ignore | Select-Object -First 1 -ExpandProperty Source
}

function Read-TrxCount {
    param([string] $Path)
    if (-not (Test-Path -LiteralPath $Path)) { return [pscustomobject]@{ Passed = 0; Failed = 1 } }
    $counters = ([xml](Get-Content -Raw -LiteralPath $Path)).TestRun.ResultSummary.Counters
    [pscustomobject]@{ Passed = [int]$counters.passed; Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted }
}

function Invoke-PesterLane {
    # One Pester run in a child pwsh against a fresh sandbox; its passed and failed counts.
    param($Tools, [string] $Chromium)
    Import-Module (Join-Path $Root 'build/AosSandbox.psm1') -Force
    # Empty mailboxes: the suites count messages exactly (Reset-Sandbox -DemoMail brings the demo Inbox).
    $sandbox = Start-AosSandbox -SandboxPath $SandboxDll -LogPath (Join-Path $ResultsDir 'sandbox.log') -ArgumentList '--no-demo-mail'
    $pesterResult = Join-Path $ResultsDir 'pester.json'
    # An earlier run's counts must not stand in for a run that wrote none.
    Remove-Item -LiteralPath $pesterResult -ErrorAction Ignore
    try {
        $env:AOS_TEST_MODULE = Join-Path $ModuleOut 'AosMail.psd1'
        $env:AOS_SANDBOX_URI = $sandbox.BaseUri.AbsoluteUri.TrimEnd('/')
        $env:AOS_SANDBOX_HTTPS_URI = $sandbox.HttpsBaseUri.AbsoluteUri.TrimEnd('/')
        $env:AOS_SANDBOX_DATA = $sandbox.DataPath
        $env:AOS_SANDBOX_USER = $sandbox.DemoUser
        $env:AOS_SANDBOX_PASSWORD = $sandbox.DemoPassword
        $env:AOS_SANDBOX_DLL = $SandboxDll
        $env:AOS_PLAYWRIGHT = $Tools.Playwright
        $env:AOS_CHROMIUM = $Chromium
        $env:AOS_TEST_RESULTS = $ResultsDir
        # A child pwsh imports the built module the way a user does, and leaves this process clean.
        # -TestName goes as one quoted, comma-joined string: on Linux and macOS PowerShell globs an
        # unquoted argument of a native command, so '*' would become the names in this folder.
        & dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $Root 'build/Invoke-PesterRun.ps1') `
            -PesterPath $Tools.Pester -TestRoot (Join-Path $Root 'tests') -TestName "$($TestName -join ',')" -ResultPath $pesterResult | Out-Host
    }
    finally {
        $sandbox | Stop-AosSandbox | Out-Host
    }
    if (Test-Path -LiteralPath $pesterResult) { Get-Content -Raw -LiteralPath $pesterResult | ConvertFrom-Json }
    else { [pscustomobject]@{ Passed = 0; Failed = 1 } }
}

function Invoke-Test {
    Invoke-Build
    # Packaged once per run for tests/Package.Tests.ps1 (which installs it); a packaging failure
    # fails those tests rather than hiding every other result.
    $env:AOS_TEST_PACKAGE_DIR = $PackageOut
    try { $null = New-ModulePackage }
    catch { Write-Warning "Packaging failed: $_"; Remove-Item -Recurse -Force $PackageOut -ErrorAction Ignore }
    if (Test-Path $ResultsDir) { Remove-Item -Recurse -Force $ResultsDir }
    $null = New-Item -ItemType Directory -Force $ResultsDir

    $skipped = [pscustomobject]@{ Passed = 0; Failed = 0 }
    $unit = $skipped
    if ('Engine' -in $Lane) {
        Write-Host 'Engine unit tests (xunit)' -ForegroundColor Cyan
        & dotnet test (Join-Path $Root 'tests/AosMail.Engine.Tests') -c $Configuration --no-build -nologo '-v:quiet' `
            --logger 'trx;LogFileName=engine.trx' --logger 'console;verbosity=minimal' --results-directory $ResultsDir
        $unit = Read-TrxCount (Join-Path $ResultsDir 'engine.trx')
        Write-Host 'Sandbox unit tests (xunit: the judge of stored messages)' -ForegroundColor Cyan
        & dotnet test (Join-Path $Root 'tests/AosMail.Sandbox.Tests') -c $Configuration --no-build -nologo '-v:quiet' `
            --logger 'trx;LogFileName=sandbox.trx' --logger 'console;verbosity=minimal' --results-directory $ResultsDir
        $sandboxUnit = Read-TrxCount (Join-Path $ResultsDir 'sandbox.trx')
        $unit = [pscustomobject]@{ Passed = $unit.Passed + $sandboxUnit.Passed; Failed = $unit.Failed + $sandboxUnit.Failed }
    }
    else { Write-Host 'Engine unit tests SKIPPED (-Lane)' -ForegroundColor Yellow }

    $module = $skipped
    $browserLane = $null
    $chromium = 'not needed'
    if ('Pester' -in $Lane) {
        Write-Host 'Module tests (Pester, against the sandbox)' -ForegroundColor Cyan
        $tools = Get-TestTool
        $chromium = Find-Chromium
        $browserLane = if ($chromium) { "Browser tests: $chromium" }
                       elseif ($env:CI -eq 'true') { 'Browser tests: no Chromium found; in CI that fails them (.ci/run installs it)' }
                       else { 'Browser tests SKIPPED: no Chromium found (apt-get install chromium, or set AOS_CHROMIUM to a Chromium or Chrome)' }
        Write-Host $browserLane -ForegroundColor ($chromium ? 'Cyan' : 'Yellow')
        $module = [pscustomobject]@{ Passed = 0; Failed = 0 }
        for ($run = 1; $run -le $Repeat; $run++) {
            if ($Repeat -gt 1) { Write-Host "Pester run $run of $Repeat" -ForegroundColor Cyan }
            $counts = Invoke-PesterLane -Tools $tools -Chromium $chromium
            $module = [pscustomobject]@{ Passed = $module.Passed + $counts.Passed; Failed = $module.Failed + $counts.Failed }
            if ($counts.Failed -gt 0) {
                if ($Repeat -gt 1) { Write-Host "Pester run $run of $Repeat failed: $($counts.Failed) failed; the runs after it were not made." -ForegroundColor Red }
                break
            }
            if ($Repeat -gt 1 -and $run -eq $Repeat) { Write-Host "Pester: $Repeat runs in a row without a failure." -ForegroundColor Green }
        }
    }
    else { Write-Host 'Pester SKIPPED (-Lane)' -ForegroundColor Yellow }

    if ('Framework' -notin $Lane) {
        Write-Host 'Framework lane SKIPPED (-Lane)' -ForegroundColor Yellow
        $framework = $skipped
    }
    elseif (Get-Command mono -ErrorAction Ignore) {
        $framework = Invoke-FrameworkLane
    }
    elseif ($env:CI -eq 'true') {
        Write-Host 'Framework lane: mono is missing, and CI must run the lane (.ci/run installs mono-devel).' -ForegroundColor Red
        $framework = [pscustomobject]@{ Passed = 0; Failed = 1 }
    }
    else {
        Write-Warning 'Framework lane SKIPPED: mono is not installed (Debian/Ubuntu: sudo apt-get install mono-devel). Windows PowerShell 5.1''s path is not tested in this run.'
        $framework = [pscustomobject]@{ Passed = 0; Failed = 0 }
    }

    Write-Host ("Engine: {0} passed, {1} failed; Pester: {2} passed, {3} failed; Framework lane: {4} passed, {5} failed" -f
        $unit.Passed, $unit.Failed, $module.Passed, $module.Failed, $framework.Passed, $framework.Failed)
    if (-not $chromium) { Write-Host $browserLane -ForegroundColor Yellow }
    $passed = $unit.Passed + $module.Passed + $framework.Passed
    $failed = $unit.Failed + $module.Failed + $framework.Failed
    if ($passed -eq 0) { $failed = [Math]::Max($failed, 1) }  # a run that ran nothing is a failure
    "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Read-XunitCount {
    param([string] $Path)
    if (-not (Test-Path -LiteralPath $Path)) { return [pscustomobject]@{ Passed = 0; Failed = 1 } }
    # Attributes by name: <assembly> also has an <errors> child element.
    $assembly = ([xml](Get-Content -Raw -LiteralPath $Path)).assemblies.assembly
    [pscustomobject]@{ Passed = [int]$assembly.GetAttribute('passed'); Failed = [int]$assembly.GetAttribute('failed') + [int]$assembly.GetAttribute('errors') }
}

function Invoke-FrameworkLane {
    # Windows PowerShell 5.1 runs on .NET Framework, which cannot run here; Mono stands in for it
    # (no AssemblyLoadContext, the AssemblyResolve path, an HttpWebRequest HTTP stack). What Mono
    # cannot show is listed in docs/windows-powershell.md. Returns the lane's counts.
    if (-not (Get-Command mono -ErrorAction Ignore)) { throw 'The Framework lane needs mono (Debian/Ubuntu: apt-get install mono-devel).' }
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $laneOut = Join-Path $Out 'framework'
    $common = @('-c', $Configuration, "-p:Version=$(Get-ModuleVersion)", '-nologo', '-v:quiet', '-clp:NoSummary')
    Write-Host 'Framework lane (Mono): building the engine tests for net472 and the end-to-end program' -ForegroundColor Cyan
    # Out-Host: this function's output is its counts only.
    Invoke-Native dotnet build (Join-Path $Root 'tests/AosMail.Engine.Tests') '-f' 'net472' '-p:FrameworkLane=true' @common | Out-Host
    Invoke-Native dotnet build (Join-Path $Root 'tests/AosMail.FrameworkTests') @common | Out-Host

    if (-not (Test-Path $ResultsDir)) { $null = New-Item -ItemType Directory -Force $ResultsDir }
    $runnerVersion = ([xml](Get-Content -Raw (Join-Path $Root 'Directory.Packages.props'))).Project.ItemGroup.PackageVersion |
        Where-Object Include -EQ 'xunit.runner.console' | ForEach-Object Version
    $runner = Join-Path (Get-NuGetPackageRoot) "xunit.runner.console/$runnerVersion/tools/net472/xunit.console.exe"
    $xml = Join-Path $ResultsDir 'framework-engine.xml'
    Remove-Item -LiteralPath $xml -ErrorAction Ignore
    Write-Host 'Framework lane: engine unit tests (net472, xunit console runner on Mono)' -ForegroundColor Cyan
    & mono $runner (Join-Path $Root "tests/AosMail.Engine.Tests/bin/$Configuration/net472/AosMail.Engine.Tests.dll") -xml $xml -nologo -noshadow -noappdomain |
        Where-Object { $_ -notmatch '^\s+(Discover|Start|Finish)' } | Out-Host
    $unit = Read-XunitCount $xml

    # The program runs from a copy of the built module's folder, beside AosMail.dll, as the module's own code does.
    $module = Join-Path $laneOut 'AosMail'
    if (Test-Path $laneOut) { Remove-Item -Recurse -Force $laneOut }
    $null = New-Item -ItemType Directory -Force $laneOut
    Copy-Item -Recurse -LiteralPath $ModuleOut -Destination $module
    $program = Join-Path $Root "tests/AosMail.FrameworkTests/bin/$Configuration/net472"
    Copy-Item -Path (Join-Path $program 'AosMail.FrameworkTests.*') -Destination $module
    Rename-PrivateMimeKit $module
    $standIn = Join-Path $Root "tests/AosMail.FrameworkTests/PowerShellStandIn/bin/$Configuration/net472/System.Management.Automation.dll"

    Write-Host 'Framework lane: the module imported through its loader on Mono, against the sandbox' -ForegroundColor Cyan
    Import-Module (Join-Path $Root 'build/AosSandbox.psm1') -Force
    $sandbox = Start-AosSandbox -SandboxPath $SandboxDll -LogPath (Join-Path $ResultsDir 'framework-sandbox.log') -ArgumentList '--no-demo-mail'
    try {
        $lines = & mono (Join-Path $module 'AosMail.FrameworkTests.exe') --standin $standIn `
            --server $sandbox.BaseUri.AbsoluteUri.TrimEnd('/') --https-server $sandbox.HttpsBaseUri.AbsoluteUri.TrimEnd('/') `
            --user $sandbox.DemoUser --password $sandbox.DemoPassword `
            --other-module (Join-Path $Root "tests/AosMail.FrameworkTests/OtherMailModule/bin/$Configuration/net472") 2>&1 | ForEach-Object { "$_" }
    }
    finally {
        $sandbox | Stop-AosSandbox
    }
    $lines | Write-Host
    $summary = @($lines | Select-String '^Framework: (\d+) passed, (\d+) failed$')
    $endToEnd = if ($summary.Count -eq 1) { [pscustomobject]@{ Passed = [int]$summary[0].Matches[0].Groups[1].Value; Failed = [int]$summary[0].Matches[0].Groups[2].Value } }
                else { [pscustomobject]@{ Passed = 0; Failed = 1 } }

    Write-Host ("Framework lane: engine tests {0} passed, {1} failed; end to end {2} passed, {3} failed ({4:N0} s)" -f
        $unit.Passed, $unit.Failed, $endToEnd.Passed, $endToEnd.Failed, $watch.Elapsed.TotalSeconds)
    [pscustomobject]@{ Passed = $unit.Passed + $endToEnd.Passed; Failed = $unit.Failed + $endToEnd.Failed }
}

function Invoke-FrameworkTest {
    Invoke-Build
    $lane = Invoke-FrameworkLane
    $failed = if ($lane.Passed -eq 0) { [Math]::Max($lane.Failed, 1) } else { $lane.Failed }
    "$($lane.Passed) passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Bench {
    if ($Micro) {
        # In-process BenchmarkDotNet with a short job: a few minutes, not tens.
        Invoke-Native dotnet run --project (Join-Path $Root 'bench/AosMail.Benchmarks') -c Release -- --filter '*'
        return
    }
    Invoke-Build
    $resultPath = Join-Path $Out "bench/results$(if ($Smoke) { '-smoke' }).json"
    $smokeArgument = @(if ($Smoke) { '-Smoke' })
    & dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $Root 'bench/Bench.ps1') `
        -ModulePath (Join-Path $ModuleOut 'AosMail.psd1') -SandboxPath $SandboxDll -ResultPath $resultPath @smokeArgument
    if ($LASTEXITCODE -ne 0) { throw "The benchmarks failed or missed a target (exit code $LASTEXITCODE); see above." }
}

function Invoke-Demo {
    Invoke-Build
    Import-Module (Join-Path $Root 'build/AosSandbox.psm1') -Force
    $sandbox = Start-AosSandbox -SandboxPath $SandboxDll
    try {
        & dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $Root 'build/Demo.ps1') `
            -ModulePath (Join-Path $ModuleOut 'AosMail.psd1') -Server $sandbox.BaseUri `
            -UserName $sandbox.DemoUser -Password $sandbox.DemoPassword -DataPath $sandbox.DataPath
        if ($LASTEXITCODE -ne 0) { throw "The demo failed (exit code $LASTEXITCODE)." }
    }
    finally {
        $sandbox | Stop-AosSandbox
    }
}

function Invoke-Sandbox {
    Invoke-Build
    & dotnet $SandboxDll @SandboxArgument
}

function Invoke-Clean {
    foreach ($dir in @($Out) + (Get-ChildItem -Path (Join-Path $Root 'src'), (Join-Path $Root 'tests'), (Join-Path $Root 'build') -Directory -Recurse -Include bin, obj).FullName) {
        if ($dir -and (Test-Path $dir)) { Remove-Item -Recurse -Force $dir }
    }
    Write-Host 'Clean.'
}

Push-Location $Root
try {
    foreach ($t in $Task) { & "Invoke-$t" }
}
finally {
    Pop-Location
}
