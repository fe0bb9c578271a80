using System.Text;
using System.Xml;
using HelpBuilder;

// HelpBuilder --docs <docs/en-US> --metadata <commands.json> --out <out/AosMail/en-US> --help-file <AosMail.dll-Help.xml>
// Exit code 1 when the docs cannot be built; problems that leave help incomplete (an undocumented
// parameter, a page without examples) are warnings here and failures in tests/Help.Tests.ps1.
var options = ParseArguments(args);
string docsDir = options["docs"], metadataPath = options["metadata"], outDir = options["out"];
string helpFile = options.GetValueOrDefault("help-file", "AosMail.dll-Help.xml");

var problems = new List<string>();
CommandMetadata[] metadata = CommandMetadata.Load(metadataPath);
var pages = new List<(CommandMetadata, CommandDoc)>();
foreach (CommandMetadata command in metadata.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase))
{
    string page = Path.Combine(docsDir, command.Name + ".md");
    if (!File.Exists(page))
    {
        problems.Add($"{command.Name}: no help page '{page}'.");
        continue;
    }

    CommandDoc doc = CommandDocParser.Parse(page, problems);
    if (!doc.Name.Equals(command.Name, StringComparison.OrdinalIgnoreCase)) problems.Add($"{page}: the '# {doc.Name}' heading should be '# {command.Name}'.");
    if (doc.Synopsis.Count == 0) problems.Add($"{page}: no synopsis.");
    if (doc.Description.Count == 0) problems.Add($"{page}: no description.");
    if (doc.Examples.Count < 3) problems.Add($"{page}: {doc.Examples.Count} example(s); write at least 3.");
    foreach (ParameterMetadata p in command.Documented.Where(p => !doc.Parameters.ContainsKey(p.Name)))
    {
        problems.Add($"{page}: parameter -{p.Name} has no '### -{p.Name}' section.");
    }

    foreach (string name in doc.Parameters.Keys.Where(n => command.Find(n) is null))
    {
        problems.Add($"{page}: '### -{name}' documents a parameter {command.Name} does not have.");
    }

    pages.Add((command, doc));
}

Directory.CreateDirectory(outDir);
var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), NewLineChars = "\n" };
using (XmlWriter writer = XmlWriter.Create(Path.Combine(outDir, helpFile), settings))
{
    MamlWriter.Write(pages).Save(writer);
}

int abouts = 0;
foreach (string about in Directory.GetFiles(docsDir, "about_*.md").OrderBy(f => f, StringComparer.Ordinal))
{
    string text = AboutWriter.Write(about, problems);
    File.WriteAllText(Path.Combine(outDir, Path.GetFileNameWithoutExtension(about) + ".help.txt"), text, new UTF8Encoding(false));
    abouts++;
}

foreach (string problem in problems) Console.Error.WriteLine("WARNING: " + problem);
Console.WriteLine($"Help: {pages.Count} cmdlet page(s) into {Path.Combine(outDir, helpFile)}, {abouts} about topic(s).");
return 0;

static Dictionary<string, string> ParseArguments(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    for (int i = 0; i + 1 < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{args[i]}'.");
        result[args[i][2..]] = args[i + 1];
    }

    foreach (string required in new[] { "docs", "metadata", "out" })
    {
        if (!result.ContainsKey(required)) throw new ArgumentException($"--{required} is required.");
    }

    return result;
}
