using System.Text;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;

namespace HelpBuilder;

/// <summary>
/// docs/en-US/about_*.md to the about_*.help.txt Get-Help prints: "TOPIC", then each "## Title"
/// upper-cased at the margin (Get-Help finds the synopsis under SHORT DESCRIPTION), text wrapped
/// at 80 columns and indented by 4, code indented by 8.
/// </summary>
public static class AboutWriter
{
    private const int Width = 80;

    public static string Write(string path, List<string> problems)
    {
        MarkdownDocument document = Markdown.Parse(File.ReadAllText(path), CommandDocParser.Pipeline);
        string topic = Path.GetFileNameWithoutExtension(path);
        var text = new StringBuilder();
        text.Append("TOPIC\n    ").Append(topic).Append('\n');
        bool hasShort = false;
        bool inShort = false;
        bool afterHeading = false;
        // A blank line between blocks, none right under a heading: Get-Help reads the topic's
        // synopsis from line 5, the first line under SHORT DESCRIPTION, which is never wrapped.
        void Gap()
        {
            if (!afterHeading) text.Append('\n');
            afterHeading = false;
        }

        foreach (Block block in document)
        {
            switch (block)
            {
                case HeadingBlock { Level: 1 } h1:
                    string title = PlainText.Inline(h1.Inline).Trim();
                    if (!title.Equals(topic, StringComparison.OrdinalIgnoreCase)) problems.Add($"{path}: the '# {title}' heading should be '# {topic}'.");
                    break;
                case HeadingBlock { Level: 2 } h2:
                    string section = PlainText.Inline(h2.Inline).Trim().ToUpperInvariant();
                    inShort = section == "SHORT DESCRIPTION";
                    hasShort |= inShort;
                    text.Append('\n').Append(section).Append('\n');
                    afterHeading = true;
                    break;
                case HeadingBlock h:
                    text.Append('\n').Append("  ").Append(PlainText.Inline(h.Inline).Trim()).Append('\n');
                    afterHeading = true;
                    break;
                case FencedCodeBlock code:
                    Gap();
                    foreach (string line in code.Lines.ToString().TrimEnd().Split('\n')) text.Append("        ").Append(line.TrimEnd('\r')).Append('\n');
                    break;
                case Table table:
                    Gap();
                    foreach (string chunk in PlainText.TableText(table, 4, Width)) text.Append(chunk).Append("\n\n");
                    text.Length--;
                    break;
                case ListBlock list:
                    Gap();
                    foreach (string item in PlainText.Paragraphs(new[] { list }))
                    {
                        foreach (string line in PlainText.Wrap(item.Replace("\n  ", " "), 4, Width, hanging: 2)) text.Append(line).Append('\n');
                    }

                    break;
                default:
                    foreach (string paragraph in PlainText.Paragraphs(new[] { block }))
                    {
                        Gap();
                        foreach (string line in PlainText.Wrap(paragraph, 4, inShort ? int.MaxValue : Width)) text.Append(line).Append('\n');
                    }

                    break;
            }
        }

        if (!hasShort) problems.Add($"{path}: no '## Short description' section (Get-Help shows it as the synopsis).");
        return text.ToString();
    }
}
