using System.IO;
using System.Linq;
using System.Text;
using MimeKit;

namespace AosMail.Engine.Tests;

/// <summary>Reading a prepared submission's MIME back as the sandbox stores it, for the MIME tests.</summary>
internal static class MimeWire
{
    /// <summary>A field's whole value as it goes on the wire before form encoding.</summary>
    public static string Field(AosPreparedSubmission prepared, string name) => prepared.Fields.Single(f => f.Name == name).Materialize();

    /// <summary>What the sandbox does: mheader lines become headers, body follows.</summary>
    public static MimeMessage Reassemble(AosPreparedSubmission prepared)
    {
        var raw = Field(prepared, "mheader") + "\r\n\r\n" + Field(prepared, "body");
        return MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(raw)));
    }

    /// <summary>A part's decoded content.</summary>
    public static byte[] Bytes(MimePart part)
    {
        using var stream = new MemoryStream();
        part.Content!.DecodeTo(stream);
        return stream.ToArray();
    }
}
