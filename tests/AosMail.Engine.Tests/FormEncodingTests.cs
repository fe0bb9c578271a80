using System.Collections.Generic;
using System.Net.Http;
using System.Text;
using Xunit;
using static AosMail.Engine.Tests.TestSecrets;

namespace AosMail.Engine.Tests;

public class FormEncodingTests
{
    private static string Encode(params (string Name, string Value)[] fields)
    {
        var list = new List<AosFormField>();
        foreach (var (name, value) in fields)
        {
            list.Add(AosFormField.Plain(name, value));
        }

        return Encoding.ASCII.GetString(new AosFormContent(list).ToArray());
    }

    /// <summary>A reference encoder, written independently: UTF-8 bytes, WHATWG byte rules.</summary>
    private static string Reference(string text)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '*' || b == '-' || b == '.' || b == '_')
            {
                builder.Append((char)b);
            }
            else if (b == ' ')
            {
                builder.Append('+');
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2"));
            }
        }

        return builder.ToString();
    }

    [Fact]
    public void SpacesBecomePlus() => Assert.Equal("a+b=x+y+z", Encode(("a b", "x y z")));

    [Fact]
    public void ReservedCharactersArePercentEncodedUppercase() =>
        Assert.Equal("v=x%26y%3Dz%25%2B%2F%3F%23%7E", Encode(("v", "x&y=z%+/?#~")));

    [Fact]
    public void UnreservedCharactersStayLiteral() =>
        Assert.Equal("v=AZaz09*-._", Encode(("v", "AZaz09*-._")));

    [Fact]
    public void NonAsciiIsUtf8PercentEncoded() =>
        Assert.Equal("%C3%A9=%E2%82%AC&e=%F0%9F%98%80", Encode(("é", "€"), ("e", "\U0001F600")));

    [Fact]
    public void LoneSurrogateBecomesReplacementCharacter() =>
        Assert.Equal("v=a%EF%BF%BDb", Encode(("v", "a\uD800b")));

    [Fact]
    public void LineBreaksAreEncoded() => Assert.Equal("v=a%0D%0Ab", Encode(("v", "a\r\nb")));

    [Fact]
    public void EmptyValuesKeepTheirEqualsSign() => Assert.Equal("a=&b=1&c=", Encode(("a", ""), ("b", "1"), ("c", "")));

    [Fact]
    public void NoFieldsIsAnEmptyBody() => Assert.Equal("", Encode());

    [Fact]
    public void ContentTypeDeclaresUtf8()
    {
        using var content = new AosFormContent(new[] { AosFormField.Plain("a", "b") });
        Assert.Equal("application/x-www-form-urlencoded; charset=utf-8", content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async System.Threading.Tasks.Task ContentLengthEqualsBytesWrittenForALargeMixedForm()
    {
        // Larger than the 16 KiB write buffer, with multi-byte characters straddling its edges.
        var value = new StringBuilder();
        for (int i = 0; i < 7000; i++)
        {
            value.Append("é a&").Append((char)('A' + (i % 26))).Append("\U0001F600");
        }

        var fields = new[] { AosFormField.Plain("body", value.ToString()), AosFormField.Plain("x", "1") };
        using var content = new AosFormContent(fields);
        var bytes = await content.ReadAsByteArrayAsync();
        var expected = "body=" + Reference(value.ToString()) + "&x=1";
        Assert.Equal(expected, Encoding.ASCII.GetString(bytes));
        Assert.Equal(bytes.Length, content.Headers.ContentLength);
        Assert.Equal(bytes.Length, content.Length);
        Assert.True(bytes.Length > 16 * 1024 * 4);
    }

    [Fact]
    public async System.Threading.Tasks.Task SecretFieldIsEncodedFromTheSecureString()
    {
        using var password = Secure("S3cret&Pass=w0rd%+ é");
        var fields = new[] { AosFormField.Plain("api", "lc"), AosFormField.Plain("name", "demo"), AosFormField.Secured("pswd", password) };
        using var content = new AosFormContent(fields);
        var bytes = await content.ReadAsByteArrayAsync();
        Assert.Equal("api=lc&name=demo&pswd=S3cret%26Pass%3Dw0rd%25%2B+%C3%A9", Encoding.ASCII.GetString(bytes));
        Assert.Equal(bytes.Length, content.Headers.ContentLength);
        Assert.Equal(20, password.Length); // untouched, still usable
    }

    [Fact]
    public void MeasureMatchesForSecretFields()
    {
        using var password = Secure("p\U0001F600w");
        var fields = new[] { AosFormField.Secured("pswd", password) };
        Assert.Equal("pswd=p%F0%9F%98%80w".Length, AosFormContent.Measure(fields));
    }

    [Fact]
    public async System.Threading.Tasks.Task ContentCanBeSentThroughHttpContentApis()
    {
        using var content = new AosFormContent(new[] { AosFormField.Plain("a", "1 2") });
        Assert.Equal("a=1+2", await content.ReadAsStringAsync());
        Assert.IsAssignableFrom<HttpContent>(content);
    }
}
