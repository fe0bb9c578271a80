#if NETFRAMEWORK
// The few .NET Core conveniences the tests use, for their .NET Framework build (build.ps1 FrameworkTest).
namespace System.Collections.Generic
{
    internal static class KeyValuePair
    {
        public static KeyValuePair<TKey, TValue> Create<TKey, TValue>(TKey key, TValue value) => new KeyValuePair<TKey, TValue>(key, value);
    }
}

namespace System
{
    internal static class StringPolyfills
    {
        public static string[] Split(this string text, string separator) => text.Split(new[] { separator }, StringSplitOptions.None);
    }
}
#endif
