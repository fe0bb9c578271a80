using System;
using System.IO;
using System.Reflection;
using AosMail.Internal;
using Xunit;

namespace AosMail.Engine.Tests;

/// <summary>
/// Windows PowerShell's loader (AssemblyResolve): which requests get the module's copies from bin/.
/// The Framework lane proves the same on Mono with real resolve events (tests/AosMail.FrameworkTests).
/// </summary>
public class DependencyResolverTests
{
    private const string MimeKitToken = "bede1c8a46c66814";
    private const string MicrosoftToken = "cc7b13ffcd2ddd51";

    private static AssemblyName Name(string fullName) => new(fullName);

    private static readonly AssemblyName OurMimeKit = Name($"MimeKit, Version=4.18.0.0, Culture=neutral, PublicKeyToken={MimeKitToken}");
    private static readonly AssemblyName OurMemory = Name($"System.Memory, Version=4.0.1.2, Culture=neutral, PublicKeyToken={MicrosoftToken}");

    [Theory]
    [InlineData("MimeKit, Version=4.18.0.0, Culture=neutral, PublicKeyToken=" + MimeKitToken)]
    [InlineData("MimeKit, Version=4.0.0.0, Culture=neutral, PublicKeyToken=" + MimeKitToken)]
    [InlineData("mimekit, Version=4.18.0.0, Culture=neutral, PublicKeyToken=" + MimeKitToken)]
    [InlineData("MimeKit")]
    public void OurOwnAssembliesGetOurCopy(string requested)
    {
        Assert.True(DependencyResolver.ShouldServe(Name(requested), OurMimeKit, requesterIsOurs: true));
    }

    // A request that names no requester is a by-name load (Add-Type -AssemblyName, another module's
    // RequiredAssemblies, Assembly.Load): it gets our copy only if it asks for exactly that file.
    [Theory]
    [InlineData("MimeKit, Version=4.18.0.0, Culture=neutral, PublicKeyToken=" + MimeKitToken, true)]
    [InlineData("mimekit, Version=4.18.0.0, PublicKeyToken=" + MimeKitToken, true)]
    [InlineData("MimeKit, Version=4.11.0.0, Culture=neutral, PublicKeyToken=" + MimeKitToken, false)]
    [InlineData("MimeKit, Version=4.18.0.0", false)]
    [InlineData("MimeKit", false)]
    public void ARequestWithNoRequesterGetsOnlyTheExactIdentity(string requested, bool served) =>
        Assert.Equal(served, DependencyResolver.ShouldServe(Name(requested), OurMimeKit, requesterIsOurs: null));

    [Theory]
    [InlineData("AosMail.MimeKit, Version=4.18.0.0, Culture=neutral, PublicKeyToken=null", null, true)]
    [InlineData("AosMail.MimeKit, Version=4.18.0.0, Culture=neutral, PublicKeyToken=null", true, true)]
    [InlineData("AosMail.MimeKit, Version=4.11.0.0, Culture=neutral, PublicKeyToken=null", null, false)]
    [InlineData("AosMail.MimeKit, Version=4.18.0.0, Culture=neutral, PublicKeyToken=" + MimeKitToken, true, false)]
    public void TheRenamedCopyHasNoPublicKey(string requested, bool? requesterIsOurs, bool served) =>
        Assert.Equal(served, DependencyResolver.ShouldServe(Name(requested), Name("AosMail.MimeKit, Version=4.18.0.0, Culture=neutral, PublicKeyToken=null"), requesterIsOurs));

    [Fact]
    public void AnotherModuleNeverGetsOurCopy()
    {
        // Az or ExchangeOnline asking for the very version we have still binds its own way.
        var request = Name($"System.Memory, Version=4.0.1.2, Culture=neutral, PublicKeyToken={MicrosoftToken}");
        Assert.False(DependencyResolver.ShouldServe(request, OurMemory, requesterIsOurs: false));
        Assert.True(DependencyResolver.ShouldServe(request, OurMemory, requesterIsOurs: true));
    }

    [Fact]
    public void AHigherVersionThanOursIsNotServed() =>
        Assert.False(DependencyResolver.ShouldServe(Name($"System.Memory, Version=4.0.2.0, Culture=neutral, PublicKeyToken={MicrosoftToken}"), OurMemory, requesterIsOurs: null));

    [Fact]
    public void AnotherPublisherSameNameIsNotServed() =>
        Assert.False(DependencyResolver.ShouldServe(Name("MimeKit, Version=4.18.0.0, Culture=neutral, PublicKeyToken=0123456789abcdef"), OurMimeKit, requesterIsOurs: true));

    [Fact]
    public void ResourceAssembliesAreNotServed() =>
        Assert.False(DependencyResolver.ShouldServe(Name($"MimeKit, Version=4.18.0.0, Culture=de, PublicKeyToken={MimeKitToken}"), OurMimeKit, requesterIsOurs: true));

    [Fact]
    public void AnotherNameIsNotServed() =>
        Assert.False(DependencyResolver.ShouldServe(Name("MailKit, Version=4.0.0.0"), OurMimeKit, requesterIsOurs: true));

    [Fact]
    public void OursMeansLoadedFromTheModuleFolderOrItsBin()
    {
        var module = Path.Combine(Path.GetTempPath(), "aosmail-resolver-" + Guid.NewGuid().ToString("N"));
        var resolver = new DependencyResolver(Path.Combine(module, "bin"));
        Assert.False(resolver.IsOurs(typeof(DependencyResolverTests).Assembly));
        Assert.False(resolver.IsOurs(typeof(object).Assembly));

        // The test's own folder, seen as a module root: AosMail.dll (the loader) is there.
        var here = new DependencyResolver(Path.Combine(Path.GetDirectoryName(typeof(DependencyResolver).Assembly.Location)!, "bin"));
        Assert.True(here.IsOurs(typeof(DependencyResolver).Assembly));
    }

    [Fact]
    public void OnlyWhatIsInBinIsServed()
    {
        var module = Path.Combine(Path.GetTempPath(), "aosmail-resolver-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(module, "bin"));
        try
        {
            var resolver = new DependencyResolver(Path.Combine(module, "bin"));
            Assert.Null(resolver.Resolve(null, new ResolveEventArgs("MimeKit, Version=4.18.0.0", typeof(DependencyResolver).Assembly)));
        }
        finally
        {
            Directory.Delete(module, true);
        }
    }
}
