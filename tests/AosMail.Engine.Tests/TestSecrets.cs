using System.Security;

namespace AosMail.Engine.Tests;

/// <summary>Passwords as the engine takes them (a SecureString), for the tests that log in or encode a secret.</summary>
internal static class TestSecrets
{
    public static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (var c in text)
        {
            secure.AppendChar(c);
        }

        return secure;
    }
}
