# Writes what the built module says about its cmdlets (names, parameter sets, types, positions,
# pipeline input, aliases, DontShow) as JSON for build/HelpBuilder. Run by build.ps1 in a child
# pwsh, so the build process never loads the module it is about to rebuild.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $OutputPath
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

$module = Import-Module -Name (Resolve-Path -LiteralPath $ModulePath).ProviderPath -PassThru
$common = [System.Management.Automation.Cmdlet]::CommonParameters

function Get-TypeName([type] $Type) {
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { $Type = $underlying }
    [pscustomobject]@{ Full = $Type.FullName; Short = $Type.Name }
}

$commands = foreach ($command in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
    $parameters = foreach ($p in $command.Parameters.Values | Where-Object { $_.Name -notin $common }) {
        $type = Get-TypeName $p.ParameterType
        [pscustomobject]@{
            Name              = $p.Name
            Type              = $type.Full
            TypeName          = $type.Short
            IsSwitch          = $p.SwitchParameter
            Aliases           = @($p.Aliases)
            DontShow          = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow })
            SupportsWildcards = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
        }
    }
    $sets = foreach ($set in $command.ParameterSets) {
        [pscustomobject]@{
            Name       = $set.Name
            IsDefault  = $set.IsDefault
            Parameters = @(foreach ($p in $set.Parameters | Where-Object { $_.Name -notin $common }) {
                [pscustomobject]@{
                    Name                            = $p.Name
                    IsMandatory                     = $p.IsMandatory
                    Position                        = if ($p.Position -ge 0) { $p.Position } else { $null }
                    ValueFromPipeline               = $p.ValueFromPipeline
                    ValueFromPipelineByPropertyName = $p.ValueFromPipelineByPropertyName
                }
            })
        }
    }
    [pscustomobject]@{
        Name                = $command.Name
        Verb                = $command.Verb
        Noun                = $command.Noun
        DefaultParameterSet = $command.DefaultParameterSet
        OutputTypes         = @($command.OutputType | ForEach-Object Name)   # none for a cmdlet that writes nothing
        Parameters          = @($parameters)
        ParameterSets       = @($sets)
    }
}
$null = New-Item -ItemType Directory -Force -Path (Split-Path $OutputPath)
ConvertTo-Json -InputObject @($commands) -Depth 6 | Set-Content -LiteralPath $OutputPath -Encoding utf8
