# Tool versions the build pins, in one place (PowerShell itself is pinned in dotnet-tools.json).
@{
    Pester = '5.7.1'
}
