using Markdig;
using Markdig.Syntax;

namespace HelpBuilder;

/// <summary>One cmdlet's help as docs/en-US/&lt;Verb-Noun&gt;.md writes it (see docs/help-format.md).</summary>
public sealed class CommandDoc
{
    public required string Name { get; init; }
    public required string SourcePath { get; init; }
    public List<string> Synopsis { get; } = new();
    public List<string> Description { get; } = new();
    public List<ExampleDoc> Examples { get; } = new();
    public Dictionary<string, ParameterDoc> Parameters { get; } = new(StringComparer.OrdinalIgnoreCase);
    public List<TypeDoc> Inputs { get; } = new();
    public List<TypeDoc> Outputs { get; } = new();
    public List<string> Notes { get; } = new();
    public List<LinkDoc> RelatedLinks { get; } = new();
}

public sealed record ExampleDoc(string Title, string Code, List<string> Remarks);

public sealed class ParameterDoc
{
    public List<string> Description { get; } = new();
    public string? DefaultValue { get; set; }
}

public sealed record TypeDoc(string TypeName, List<string> Description);

public sealed record LinkDoc(string Text, string? Uri);

/// <summary>Reads a cmdlet page: H1 the name, H2 the sections, H3 an example, parameter or type.</summary>
public static class CommandDocParser
{
    public static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UsePipeTables().Build();

    public static CommandDoc Parse(string path, List<string> problems)
    {
        MarkdownDocument document = Markdown.Parse(File.ReadAllText(path), Pipeline);
        var h1 = document.OfType<HeadingBlock>().FirstOrDefault(h => h.Level == 1);
        if (h1 is null) throw new InvalidDataException($"{path}: no '# Verb-Noun' heading.");
        var doc = new CommandDoc { Name = PlainText.Inline(h1.Inline).Trim(), SourcePath = path };

        string? section = null;
        string? item = null;
        var itemBlocks = new List<Block>();

        void Flush()
        {
            if (section is null) return;
            Store(doc, section, item, itemBlocks, path, problems);
            itemBlocks.Clear();
        }

        foreach (Block block in document)
        {
            if (block is HeadingBlock heading && heading.Level <= 3)
            {
                string text = PlainText.Inline(heading.Inline).Trim();
                if (heading.Level == 1) continue;
                Flush();
                if (heading.Level == 2)
                {
                    section = text.ToLowerInvariant();
                    item = null;
                    if (!KnownSections.Contains(section)) problems.Add($"{path}: unknown section '## {text}'.");
                }
                else
                {
                    item = text;
                }

                continue;
            }

            itemBlocks.Add(block);
        }

        Flush();
        return doc;
    }

    private static readonly HashSet<string> KnownSections = new(StringComparer.OrdinalIgnoreCase)
    {
        "synopsis", "syntax", "description", "examples", "parameters", "inputs", "outputs", "notes", "related links",
    };

    private static void Store(CommandDoc doc, string section, string? item, List<Block> blocks, string path, List<string> problems)
    {
        switch (section)
        {
            case "synopsis" when item is null:
                doc.Synopsis.AddRange(PlainText.Paragraphs(blocks));
                break;
            case "description" when item is null:
                doc.Description.AddRange(PlainText.Paragraphs(blocks));
                break;
            case "notes" when item is null:
                doc.Notes.AddRange(PlainText.Paragraphs(blocks));
                break;
            case "syntax":
                // Generated from the cmdlet's metadata; anything written here is ignored.
                break;
            case "examples" when item is not null:
            {
                var code = blocks.OfType<FencedCodeBlock>().Select(c => c.Lines.ToString().TrimEnd()).ToList();
                if (code.Count == 0) problems.Add($"{path}: example '{item}' has no code block.");
                var remarks = PlainText.Paragraphs(blocks.Where(b => b is not FencedCodeBlock));
                doc.Examples.Add(new ExampleDoc(item, string.Join("\n\n", code), remarks));
                break;
            }
            case "parameters" when item is not null:
            {
                if (!item.StartsWith('-')) { problems.Add($"{path}: parameter heading '### {item}' must start with '-'."); break; }
                var parameter = new ParameterDoc();
                foreach (FencedCodeBlock yaml in blocks.OfType<FencedCodeBlock>().Where(c => c.Info is "yaml"))
                {
                    foreach (string line in yaml.Lines.ToString().Split('\n'))
                    {
                        int colon = line.IndexOf(':');
                        if (colon > 0 && line[..colon].Trim().Equals("Default value", StringComparison.OrdinalIgnoreCase))
                        {
                            parameter.DefaultValue = line[(colon + 1)..].Trim();
                        }
                    }
                }

                parameter.Description.AddRange(PlainText.Paragraphs(blocks.Where(b => !(b is FencedCodeBlock f && f.Info is "yaml"))));
                doc.Parameters[item[1..]] = parameter;
                break;
            }
            case "inputs" when item is not null:
                doc.Inputs.Add(new TypeDoc(item, PlainText.Paragraphs(blocks)));
                break;
            case "outputs" when item is not null:
                doc.Outputs.Add(new TypeDoc(item, PlainText.Paragraphs(blocks)));
                break;
            case "related links" when item is null:
                foreach (var link in blocks.OfType<ListBlock>().SelectMany(l => l).OfType<ListItemBlock>())
                {
                    var inline = link.OfType<ParagraphBlock>().FirstOrDefault()?.Inline;
                    var anchor = inline?.Descendants<Markdig.Syntax.Inlines.LinkInline>().FirstOrDefault();
                    string text = PlainText.Inline(anchor ?? (Markdig.Syntax.Inlines.ContainerInline?)inline).Trim();
                    string? uri = anchor?.Url is { } url && (url.StartsWith("https://") || url.StartsWith("http://")) ? url : null;
                    doc.RelatedLinks.Add(new LinkDoc(text, uri));
                }

                break;
            default:
                if (blocks.Count > 0 && section is not "examples" and not "parameters" and not "inputs" and not "outputs")
                {
                    problems.Add($"{path}: '## {section}' has content where none is read (H3 heading '{item}').");
                }
                else if (blocks.Any(b => b is not HtmlBlock))
                {
                    problems.Add($"{path}: text in '## {section}' before its first '###' heading is ignored.");
                }

                break;
        }
    }
}
