# Tool versions the build pins, in one place (PowerShell itself is pinned in dotnet-tools.json).
@{
    Pester = '5.7.1'
    # Drives Debian's Chromium in tests/Viewer.Tests.ps1; its node-based driver ships inside the package.
    Playwright = '1.64.1'
}
