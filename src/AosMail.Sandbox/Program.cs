using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Encodings.Web;
using System.Text.Json;
using AosMail.Sandbox;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

SandboxOptions options;
try
{
    options = SandboxOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
Directory.CreateDirectory(options.DataPath);

var state = new SandboxState(options, TimeProvider.System);
using var certificate = CreateCertificate();

// No args to the host: the command line above is the sandbox's, not ASP.NET configuration.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseKestrelHttpsConfiguration();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    // The ceiling; each request then gets the (possibly lowered) state.MaxRequestBytes.
    kestrel.Limits.MaxRequestBodySize = SandboxOptions.DefaultMaxRequestBytes;
    kestrel.Listen(IPAddress.Loopback, options.Port);
    kestrel.Listen(IPAddress.Loopback, options.HttpsPort, listen => listen.UseHttps(certificate));
});

var app = builder.Build();
ControlEndpoints.UseGuard(app);
// The viewer's files are served before routing: after it, the AOS fallback route would claim them.
ViewerEndpoints.UseFiles(app);
app.UseRouting();
ControlEndpoints.Map(app, state);
ViewerEndpoints.Map(app, state);
CheckEndpoints.Map(app, state);
app.MapFallback("{**path}", context => AosEndpoints.HandleAsync(context, state));

await app.StartAsync();

var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
state.BaseUri = addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)).TrimEnd('/');
state.HttpsBaseUri = addresses.First(a => a.StartsWith("https://", StringComparison.Ordinal)).TrimEnd('/');

Console.WriteLine($"""
    AOS sandbox (AosMail) is listening.
      Base URI:   {state.BaseUri}
      HTTPS URI:  {state.HttpsBaseUri}  (self-signed certificate: use -SkipCertificateCheck)
      Viewer:     {state.ViewerUri}  (open it in a browser: the mail that arrived, the request log, faults)
      Data:       {options.DataPath}
      Demo user:  {SandboxOptions.DemoUser}
      Password:   {SandboxOptions.DemoPassword}
    Try: New-AosSession -Server {state.BaseUri} -Credential (Get-Credential {SandboxOptions.DemoUser}) -AllowUnencryptedAuthentication
    Ctrl+C stops it.
    """);

if (options.ReadyFile is { } readyFile)
{
    // Written atomically: whoever waits for the file reads it whole as soon as it exists.
    AtomicFile.Write(readyFile, JsonSerializer.SerializeToUtf8Bytes(new
    {
        baseUri = state.BaseUri,
        httpsBaseUri = state.HttpsBaseUri,
        viewerUri = state.ViewerUri,
        dataPath = options.DataPath,
        demoUser = SandboxOptions.DemoUser,
        demoPassword = SandboxOptions.DemoPassword,
        pid = Environment.ProcessId,
    }, new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
}

await app.WaitForShutdownAsync();
return 0;

// A fresh self-signed certificate each start, so clients can test certificate validation
// failing and -SkipCertificateCheck without anything installed on the machine.
static X509Certificate2 CreateCertificate()
{
    using var key = RSA.Create(2048);
    var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    var names = new SubjectAlternativeNameBuilder();
    names.AddDnsName("localhost");
    names.AddIpAddress(IPAddress.Loopback);
    request.CertificateExtensions.Add(names.Build());
    request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
    request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
    request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
    var now = DateTimeOffset.UtcNow;
    using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
    // A PFX round trip gives a key SslStream can use on every platform (ephemeral keys fail on Windows).
    return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
}
