using System.Text.Json;

namespace HelpBuilder;

/// <summary>
/// What the built module says about its cmdlets, exported by build/Export-CommandMetadata.ps1
/// from Get-Command in a child pwsh. Syntax, types, positions and pipeline input in the help come
/// from here, so they can never drift from the code; the Markdown supplies only the prose.
/// </summary>
public sealed record CommandMetadata(
    string Name, string Verb, string Noun, string? DefaultParameterSet, string[] OutputTypes,
    ParameterMetadata[] Parameters, ParameterSetMetadata[] ParameterSets)
{
    public static CommandMetadata[] Load(string path)
    {
        var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };
        using FileStream stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<CommandMetadata[]>(stream, options)
            ?? throw new InvalidDataException($"'{path}' holds no command metadata.");
    }

    public ParameterMetadata? Find(string name) =>
        Parameters.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The parameters help documents: everything public except DontShow ones.</summary>
    public IEnumerable<ParameterMetadata> Documented => Parameters.Where(p => !p.DontShow);

    /// <summary>One parameter's membership in every set it belongs to.</summary>
    public IEnumerable<SetParameterMetadata> Memberships(string name) =>
        ParameterSets.SelectMany(s => s.Parameters).Where(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}

public sealed record ParameterMetadata(
    string Name, string Type, string TypeName, bool IsSwitch, string[] Aliases, bool DontShow, bool SupportsWildcards);

public sealed record ParameterSetMetadata(string Name, bool IsDefault, SetParameterMetadata[] Parameters);

public sealed record SetParameterMetadata(
    string Name, bool IsMandatory, int? Position, bool ValueFromPipeline, bool ValueFromPipelineByPropertyName);
