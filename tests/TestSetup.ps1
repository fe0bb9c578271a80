# What every suite's BeforeAll starts with:  . (Join-Path $PSScriptRoot 'TestSetup.ps1')
# The test helpers, the running sandbox as $Sandbox (BaseUri, HttpsBaseUri, DataPath, DemoUser,
# DemoPassword), and the built module, imported by its manifest as a user imports it.
# Run the suites through ./build.ps1 Test, which builds the module and starts the sandbox.
Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
$Sandbox = Get-TestSandbox
Import-Module $env:AOS_TEST_MODULE -Force
