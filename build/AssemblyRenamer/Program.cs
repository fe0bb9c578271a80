using Mono.Cecil;

// Windows PowerShell 5.1 keeps every module's assemblies in one AppDomain and finds a type such as
// [MimeKit.MimeMessage] by its name in the first loaded assembly that has it. Two modules each
// shipping MimeKit then see each other's types. This tool gives the module's own copy a private
// identity: the assembly name and every namespace get a prefix ("MimeKit" -> "AosMail.MimeKit",
// "MimeKit.Text" -> "AosMail.MimeKit.Text"), the strong name goes (the bytes change, so the old
// signature would be a lie), and every assembly in the folder that references it is pointed at the
// new name. Nobody else's name lookup or Load("MimeKit") can then reach our copy, and ours never
// binds to theirs. Running it again over the same folder changes nothing but newly added referrers.
//
// Usage: AssemblyRenamer <module folder> <assembly name> <new name>
// The assembly is looked for in <module folder>/bin; referrers in the folder and its bin/.

if (args.Length != 3)
{
    Console.Error.WriteLine("Usage: AssemblyRenamer <module folder> <assembly name> <new name>");
    return 2;
}

string folder = Path.GetFullPath(args[0]);
string oldName = args[1];
string newName = args[2];
string bin = Path.Combine(folder, "bin");
string original = Path.Combine(bin, oldName + ".dll");

if (File.Exists(original))
{
    using (var assembly = Read(original))
    {
        assembly.Name.Name = newName;
        assembly.Name.PublicKey = [];
        assembly.Name.HasPublicKey = false;
        assembly.MainModule.Attributes &= ~ModuleAttributes.StrongNameSigned;
        assembly.MainModule.Name = newName + ".dll";
        ParseTypeArguments(assembly);
        foreach (TypeDefinition type in assembly.MainModule.Types)
        {
            type.Namespace = Renamed(type.Namespace);
        }

        assembly.Write(Path.Combine(bin, newName + ".dll"));
    }

    File.Delete(original);
    Console.WriteLine($"{oldName}.dll -> {newName}.dll (namespaces {oldName}.* -> {newName}.*, no strong name)");
}
else if (!File.Exists(Path.Combine(bin, newName + ".dll")))
{
    Console.Error.WriteLine($"Neither {oldName}.dll nor {newName}.dll is in {bin}.");
    return 1;
}

var candidates = Directory.GetFiles(folder, "*.dll").Concat(Directory.GetFiles(folder, "*.exe"))
    .Concat(Directory.GetFiles(bin, "*.dll"))
    .Where(path => !string.Equals(Path.GetFileNameWithoutExtension(path), newName, StringComparison.OrdinalIgnoreCase));
foreach (string path in candidates)
{
    if (Repoint(path)) Console.WriteLine($"{Path.GetFileName(path)} now references {newName}");
}

return 0;

// Points one assembly's reference (and the type references through it) at the new name; false
// when it does not reference the old one. Nested type references carry no namespace of their own.
bool Repoint(string path)
{
    AssemblyDefinition assembly;
    try
    {
        assembly = Read(path);
    }
    catch (BadImageFormatException)
    {
        return false; // a native DLL
    }

    using (assembly)
    {
        var reference = assembly.MainModule.AssemblyReferences.FirstOrDefault(r => r.Name == oldName);
        if (reference is null) return false;

        reference.Name = newName;
        reference.PublicKey = [];
        reference.PublicKeyToken = [];
        reference.HasPublicKey = false;
        foreach (TypeReference type in assembly.MainModule.GetTypeReferences())
        {
            if (type.Scope == reference && type.DeclaringType is null) type.Namespace = Renamed(type.Namespace);
        }

        assembly.Write(path);
        return true;
    }
}

// An attribute argument of type System.Type is stored as the type's name in text
// ([AsyncStateMachine(typeof(...))] and the like). Parsed before the renaming, it is written back
// under the new name; other attributes stay as the bytes they are.
static void ParseTypeArguments(AssemblyDefinition assembly)
{
    var providers = new List<ICustomAttributeProvider> { assembly, assembly.MainModule };
    var types = new Stack<TypeDefinition>(assembly.MainModule.Types);
    while (types.Count > 0)
    {
        var type = types.Pop();
        providers.Add(type);
        providers.AddRange(type.Methods);
        providers.AddRange(type.Fields);
        providers.AddRange(type.Properties);
        foreach (var nested in type.NestedTypes) types.Push(nested);
    }

    foreach (var attribute in providers.Where(p => p.HasCustomAttributes).SelectMany(p => p.CustomAttributes))
    {
        if (attribute.Constructor.Parameters.Any(p => p.ParameterType.FullName == "System.Type")) _ = attribute.ConstructorArguments;
    }
}

string Renamed(string ns) =>
    ns == oldName || ns.StartsWith(oldName + ".", StringComparison.Ordinal) ? newName + ns.Substring(oldName.Length) : ns;

// From memory, so that the file can be written over; the resolver looks beside it for what a
// signature's custom attribute or enum needs.
static AssemblyDefinition Read(string path)
{
    var resolver = new DefaultAssemblyResolver();
    resolver.AddSearchDirectory(Path.GetDirectoryName(path)!);
    return AssemblyDefinition.ReadAssembly(new MemoryStream(File.ReadAllBytes(path)), new ReaderParameters { AssemblyResolver = resolver });
}
