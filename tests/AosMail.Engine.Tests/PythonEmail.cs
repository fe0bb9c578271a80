#if NET
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace AosMail.Engine.Tests;

/// <summary>
/// A judge that is not MimeKit: Python's email package (policy=default) parses a message and
/// reports its decoded subject, headers and text body, and the length in octets of its longest
/// line. python3 is on every machine that runs the tests (CI included).
/// </summary>
internal sealed class PythonEmail
{
    private const string Script = """
        import sys, json, email
        from email import policy
        raw = sys.stdin.buffer.read()
        msg = email.message_from_bytes(raw, policy=policy.default)
        body = msg.get_body(preferencelist=('plain', 'html'))
        lines = raw.split(b'\r\n')
        json.dump({
            'subject': None if msg['Subject'] is None else str(msg['Subject']),
            'headers': [[k, str(v)] for k, v in msg.items()],
            'body': None if body is None else body.get_content(),
            'lines': [len(l) for l in lines],
            'nul': b'\0' in raw,
            'bareLf': b'\n' in raw.replace(b'\r\n', b''),
            'defects': [type(d).__name__ for part in msg.walk() for d in part.defects],
        }, sys.stdout)
        """;

    private PythonEmail(JsonElement root) => Root = root;

    private JsonElement Root { get; }

    public string? Subject => Root.GetProperty("subject").GetString();

    /// <summary>The text body, decoded, with LF line endings.</summary>
    public string? Body => Root.GetProperty("body").GetString()?.Replace("\r\n", "\n");

    public int[] LineLengths => Root.GetProperty("lines").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public bool HasNul => Root.GetProperty("nul").GetBoolean();

    public bool HasBareLineFeed => Root.GetProperty("bareLf").GetBoolean();

    public string[] Defects => Root.GetProperty("defects").EnumerateArray().Select(e => e.GetString()!).ToArray();

    /// <summary>Every value of the header <paramref name="name"/>, decoded and unfolded.</summary>
    public string[] Header(string name) => Root.GetProperty("headers").EnumerateArray()
        .Where(h => string.Equals(h[0].GetString(), name, StringComparison.OrdinalIgnoreCase))
        .Select(h => h[1].GetString()!).ToArray();

    /// <summary>The message as the sandbox and AOS store it: the server's headers, then mheader, then the body.</summary>
    public static byte[] Stored(AosPreparedSubmission prepared)
    {
        string Value(string name) => prepared.Fields.SingleOrDefault(f => f.Name == name)?.Materialize() ?? "";
        var text = new StringBuilder("From: demo@sandbox.test\r\nTo: a@x.org\r\n");
        if (Value("msub").Length > 0) text.Append("Subject: ").Append(Value("msub")).Append("\r\n");
        if (Value("mheader").Length > 0) text.Append(Value("mheader")).Append("\r\n");
        text.Append("\r\n").Append(Value("body"));
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static PythonEmail Parse(AosPreparedSubmission prepared) => Parse(Stored(prepared));

    public static PythonEmail Parse(byte[] message)
    {
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        using var python = Process.Start(start)!;
        var stderr = python.StandardError.ReadToEndAsync();
        var stdout = python.StandardOutput.ReadToEndAsync();
        python.StandardInput.BaseStream.Write(message);
        python.StandardInput.Close();
        python.WaitForExit();
        if (python.ExitCode != 0) throw new InvalidOperationException("python3 could not parse the message: " + stderr.Result);
        return new PythonEmail(JsonDocument.Parse(stdout.Result).RootElement.Clone());
    }
}
#endif
