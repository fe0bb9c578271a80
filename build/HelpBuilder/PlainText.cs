using System.Text;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace HelpBuilder;

/// <summary>Markdown to the plain text help shows: markup dropped, links kept as "text (url)".</summary>
public static class PlainText
{
    public static string Inline(ContainerInline? container)
    {
        if (container is null) return string.Empty;
        var text = new StringBuilder();
        Append(text, container);
        return text.ToString();
    }

    private static void Append(StringBuilder text, Markdig.Syntax.Inlines.Inline inline)
    {
        switch (inline)
        {
            case LiteralInline literal:
                text.Append(literal.Content.ToString());
                break;
            case CodeInline code:
                text.Append(code.Content);
                break;
            case LineBreakInline lineBreak:
                text.Append(lineBreak.IsHard ? "\n" : " ");
                break;
            case AutolinkInline auto:
                text.Append(auto.Url);
                break;
            case HtmlEntityInline entity:
                text.Append(entity.Transcoded.ToString());
                break;
            case HtmlInline html:
                text.Append(html.Tag);
                break;
            case LinkInline link:
                foreach (var child in link) Append(text, child);
                if (link.Url is { } url && (url.StartsWith("http://") || url.StartsWith("https://")) && !link.IsImage)
                {
                    text.Append(" (").Append(url).Append(')');
                }

                break;
            case ContainerInline container:
                foreach (var child in container) Append(text, child);
                break;
        }
    }

    /// <summary>Blocks as paragraphs: lists give one "- item" per entry, code keeps its lines, indented.</summary>
    public static List<string> Paragraphs(IEnumerable<Block> blocks)
    {
        var result = new List<string>();
        foreach (Block block in blocks) AddParagraphs(result, block, "");
        return result;
    }

    private static void AddParagraphs(List<string> result, Block block, string prefix)
    {
        switch (block)
        {
            case ParagraphBlock paragraph:
                result.Add(prefix + Inline(paragraph.Inline).Trim());
                break;
            case HeadingBlock heading:
                result.Add(prefix + Inline(heading.Inline).Trim());
                break;
            case FencedCodeBlock code:
                result.Add(string.Join("\n", code.Lines.ToString().TrimEnd().Split('\n').Select(l => "    " + l.TrimEnd('\r'))));
                break;
            case CodeBlock code:
                result.Add(string.Join("\n", code.Lines.ToString().TrimEnd().Split('\n').Select(l => "    " + l.TrimEnd('\r'))));
                break;
            case ListBlock list:
                int number = int.TryParse(list.OrderedStart, out int start) ? start : 1;
                foreach (ListItemBlock item in list.OfType<ListItemBlock>())
                {
                    string marker = list.IsOrdered ? $"{number++}. " : "- ";
                    var inner = new List<string>();
                    foreach (Block child in item) AddParagraphs(inner, child, "");
                    result.Add(prefix + marker + string.Join("\n  ", inner));
                }

                break;
            case Table table:
                result.AddRange(TableText(table, 0, 80));
                break;
            case QuoteBlock quote:
                foreach (Block child in quote) AddParagraphs(result, child, prefix);
                break;
            case ContainerBlock container:
                foreach (Block child in container) AddParagraphs(result, child, prefix);
                break;
        }
    }

    public static List<List<string>> Cells(Table table, out bool hasHeader)
    {
        hasHeader = table.OfType<TableRow>().FirstOrDefault()?.IsHeader ?? false;
        return table.OfType<TableRow>()
            .Select(r => r.OfType<TableCell>().Select(c => string.Join(" ", c.OfType<ParagraphBlock>().Select(p => Inline(p.Inline).Trim()))).ToList())
            .ToList();
    }

    /// <summary>
    /// A table as aligned columns when it fits the width, else one block per row: the first cell
    /// as a heading, then "Header: value" lines.
    /// </summary>
    public static List<string> TableText(Table table, int indent, int width)
    {
        var rows = Cells(table, out bool hasHeader);
        var lines = new List<string>();
        if (rows.Count == 0) return lines;
        int columns = rows.Max(r => r.Count);
        foreach (var row in rows) while (row.Count < columns) row.Add("");
        int[] widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => r[c].Length)).ToArray();
        string pad = new(' ', indent);
        if (indent + widths.Sum() + 2 * (columns - 1) <= width)
        {
            for (int i = 0; i < rows.Count; i++)
            {
                lines.Add(pad + string.Join("  ", rows[i].Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
                if (i == 0 && hasHeader) lines.Add(pad + string.Join("  ", widths.Select(w => new string('-', w))));
            }

            return new List<string> { string.Join("\n", lines) };
        }

        var header = hasHeader ? rows[0] : Enumerable.Range(1, columns).Select(c => "Column " + c).ToList();
        var blocks = new List<string>();
        foreach (var row in rows.Skip(hasHeader ? 1 : 0))
        {
            var block = new List<string> { pad + row[0] };
            for (int c = 1; c < columns; c++)
            {
                if (row[c].Length == 0) continue;
                block.AddRange(Wrap($"{header[c]}: {row[c]}", indent + 4, width, hanging: 2));
            }

            blocks.Add(string.Join("\n", block));
        }

        return blocks;
    }

    /// <summary>Word-wraps one paragraph to the width, every line indented (later lines by 'hanging' more).</summary>
    public static IEnumerable<string> Wrap(string text, int indent, int width, int hanging = 0)
    {
        var lines = new List<string>();
        foreach (string hardLine in text.Split('\n'))
        {
            var line = new StringBuilder();
            int currentIndent = indent;
            foreach (string word in hardLine.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.Length > 0 && currentIndent + line.Length + 1 + word.Length > width)
                {
                    lines.Add(new string(' ', currentIndent) + line);
                    line.Clear();
                    currentIndent = indent + hanging;
                }

                if (line.Length > 0) line.Append(' ');
                line.Append(word);
            }

            lines.Add(new string(' ', currentIndent) + line);
        }

        return lines;
    }
}
