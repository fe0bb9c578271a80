using System.Xml.Linq;

namespace HelpBuilder;

/// <summary>Writes the MAML (AosMail.dll-Help.xml) that Get-Help reads for binary cmdlets.</summary>
public static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    public static XDocument Write(IEnumerable<(CommandMetadata Meta, CommandDoc Doc)> commands)
    {
        var root = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"));
        foreach (var (meta, doc) in commands) root.Add(WriteCommand(meta, doc));
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    private static XElement WriteCommand(CommandMetadata meta, CommandDoc doc)
    {
        return new XElement(Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XElement(Command + "details",
                new XElement(Command + "name", meta.Name),
                new XElement(Command + "verb", meta.Verb),
                new XElement(Command + "noun", meta.Noun),
                Description(doc.Synopsis)),
            Description(doc.Description),
            new XElement(Command + "syntax", SyntaxItems(meta, doc)),
            new XElement(Command + "parameters",
                Ordered(meta, meta.Documented).Select(p => Parameter(meta, doc, p, setName: null))),
            new XElement(Command + "inputTypes", doc.Inputs.Select(t =>
                new XElement(Command + "inputType", DevType(t.TypeName), Description(t.Description)))),
            new XElement(Command + "returnValues", doc.Outputs.Select(t =>
                new XElement(Command + "returnValue", DevType(t.TypeName), Description(t.Description)))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paras(doc.Notes))),
            new XElement(Command + "examples", doc.Examples.Select((e, i) =>
                new XElement(Command + "example",
                    new XElement(Maml + "title", $"-------------------------- {e.Title} --------------------------"),
                    new XElement(Dev + "code", e.Code),
                    new XElement(Dev + "remarks", Paras(e.Remarks.Append(string.Empty)))))),
            new XElement(Command + "relatedLinks", doc.RelatedLinks.Select(l =>
                new XElement(Maml + "navigationLink",
                    new XElement(Maml + "linkText", l.Text),
                    new XElement(Maml + "uri", l.Uri ?? string.Empty)))));
    }

    private static IEnumerable<XElement> SyntaxItems(CommandMetadata meta, CommandDoc doc)
    {
        var sets = meta.ParameterSets.OrderByDescending(s => s.IsDefault).ToList();
        foreach (var set in sets)
        {
            var names = set.Parameters.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var parameters = Ordered(meta, meta.Documented.Where(p => names.Contains(p.Name)), set);
            yield return new XElement(Command + "syntaxItem",
                new XElement(Maml + "name", meta.Name),
                parameters.Select(p => Parameter(meta, doc, p, set.Name)));
        }
    }

    /// <summary>Syntax order: positional by position, then named, then switches, then -WhatIf/-Confirm.</summary>
    private static IEnumerable<ParameterMetadata> Ordered(CommandMetadata meta, IEnumerable<ParameterMetadata> parameters, ParameterSetMetadata? set = null)
    {
        int? PositionOf(ParameterMetadata p) =>
            (set?.Parameters.Where(s => s.Name == p.Name) ?? meta.Memberships(p.Name)).Select(s => s.Position).FirstOrDefault(x => x.HasValue);
        bool IsShouldProcess(ParameterMetadata p) => p.Name is "WhatIf" or "Confirm";
        return parameters
            .Select((p, index) => (p, index))
            .OrderBy(x => IsShouldProcess(x.p) ? 3 : PositionOf(x.p).HasValue ? 0 : x.p.IsSwitch ? 2 : 1)
            .ThenBy(x => PositionOf(x.p) ?? int.MaxValue)
            .ThenBy(x => x.index)
            .Select(x => x.p);
    }

    private static XElement Parameter(CommandMetadata meta, CommandDoc doc, ParameterMetadata p, string? setName)
    {
        var memberships = meta.Memberships(p.Name).ToList();
        var inSet = setName is null ? memberships : meta.ParameterSets.Where(s => s.Name == setName).SelectMany(s => s.Parameters).Where(s => s.Name == p.Name).ToList();
        bool required = inSet.Count > 0 && inSet.All(s => s.IsMandatory);
        int? position = inSet.Select(s => s.Position).FirstOrDefault(x => x.HasValue);
        bool byValue = inSet.Any(s => s.ValueFromPipeline);
        bool byName = inSet.Any(s => s.ValueFromPipelineByPropertyName);
        string pipeline = (byValue, byName) switch
        {
            (true, true) => "True (ByPropertyName, ByValue)",
            (true, false) => "True (ByValue)",
            (false, true) => "True (ByPropertyName)",
            _ => "False",
        };
        doc.Parameters.TryGetValue(p.Name, out ParameterDoc? text);
        bool isArray = p.TypeName.EndsWith("[]", StringComparison.Ordinal);

        var element = new XElement(Command + "parameter",
            new XAttribute("required", required ? "true" : "false"),
            new XAttribute("variableLength", isArray ? "true" : "false"),
            new XAttribute("globbing", p.SupportsWildcards ? "true" : "false"),
            new XAttribute("pipelineInput", pipeline),
            new XAttribute("position", position?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "named"),
            new XAttribute("aliases", p.Aliases.Length == 0 ? "none" : string.Join(", ", p.Aliases)),
            new XElement(Maml + "name", p.Name),
            Description(text?.Description ?? new List<string>()));
        // Syntax shows "-Name <Type>" for values and just "-Name" for switches.
        if (!(p.IsSwitch && setName is not null))
        {
            element.Add(new XElement(Command + "parameterValue",
                new XAttribute("required", p.IsSwitch ? "false" : "true"),
                new XAttribute("variableLength", isArray ? "true" : "false"),
                p.TypeName));
        }

        element.Add(DevType(p.Type));
        element.Add(new XElement(Dev + "defaultValue", text?.DefaultValue ?? (p.IsSwitch ? "False" : "None")));
        return element;
    }

    private static XElement DevType(string typeName) =>
        new XElement(Dev + "type", new XElement(Maml + "name", typeName), new XElement(Maml + "uri"));

    private static XElement Description(IEnumerable<string> paragraphs) =>
        new XElement(Maml + "description", Paras(paragraphs));

    private static IEnumerable<XElement> Paras(IEnumerable<string> paragraphs) =>
        paragraphs.Select(p => new XElement(Maml + "para", p));
}
