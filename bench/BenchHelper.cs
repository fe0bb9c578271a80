// Compiled by bench/Bench.ps1 with Add-Type: the baselines, written as plainly as possible so
// they cost less than the module (compiled C#, no PowerShell per request).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

public static class AosBenchHelper
{
    /// <summary>WHATWG form encoding of UTF-8, as the module does (B2).</summary>
    public static string FormEncode(string value)
    {
        var builder = new StringBuilder(value.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '*' || b == '-' || b == '.' || b == '_')
                builder.Append((char)b);
            else if (b == ' ')
                builder.Append('+');
            else
                builder.Append('%').Append(b.ToString("X2"));
        }
        return builder.ToString();
    }

    /// <summary>The form the module sends for a plain ASCII message (B5 order: api, mto, msub, body, snd).</summary>
    public static byte[] PlainSendForm(string to, string subject, string body)
    {
        var text = "api=lc&mto=" + FormEncode(to) + "&msub=" + FormEncode(subject)
            + "&body=" + FormEncode(body.Replace("\r\n", "\n").Replace("\n", "\r\n")) + "&snd=checked";
        return Encoding.ASCII.GetBytes(text);
    }

    /// <summary>A client as the module's session builds one; <paramref name="skipCertificateCheck"/>
    /// accepts the sandbox's self-signed certificate, as the module's -SkipCertificateCheck does.</summary>
    public static HttpClient NewClient(bool skipCertificateCheck)
    {
        var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        if (skipCertificateCheck) handler.ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator;
        var client = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.ExpectContinue = false;
        return client;
    }

    public static string Login(HttpClient client, string baseUri, string name, string host, string password)
    {
        var form = "api=lc&name=" + FormEncode(name) + "&host=" + FormEncode(host) + "&pswd=" + FormEncode(password);
        var answer = Post(client, baseUri + "/st.login.mms", Encoding.ASCII.GetBytes(form)).Trim();
        if (!answer.StartsWith("SID", StringComparison.Ordinal)) throw new InvalidOperationException("baseline login failed: " + answer);
        return answer;
    }

    /// <summary>Posts every form in a loop over one client; returns the seconds taken. Every answer must be OK.</summary>
    public static double PostAll(HttpClient client, string url, IList<byte[]> forms)
    {
        var watch = Stopwatch.StartNew();
        foreach (var form in forms)
        {
            var answer = Post(client, url, form);
            if (answer.Trim() != "OK") throw new InvalidOperationException("baseline send failed: " + answer);
        }
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Posts every form over one client with <paramref name="inFlight"/> requests at a time (as many
    /// workers, each taking the next form); returns the seconds taken. Every answer must be OK.
    /// </summary>
    public static double PostAllConcurrently(HttpClient client, string url, IList<byte[]> forms, int inFlight)
    {
        var watch = Stopwatch.StartNew();
        int next = -1;
        var workers = new Task[inFlight];
        for (int w = 0; w < inFlight; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < forms.Count)
                {
                    var answer = await PostAsync(client, url, forms[i]).ConfigureAwait(false);
                    if (answer.Trim() != "OK") throw new InvalidOperationException("baseline send failed: " + answer);
                }
            });
        }
        Task.WaitAll(workers);
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>One post of a pre-encoded form; the answer must be OK (the PowerShell-driven floor).</summary>
    public static void PostOne(HttpClient client, string url, byte[] form)
    {
        var answer = Post(client, url, form);
        if (answer.Trim() != "OK") throw new InvalidOperationException("baseline send failed: " + answer);
    }

    private static async Task<string> PostAsync(HttpClient client, string url, byte[] form)
    {
        using (var content = new ByteArrayContent(form))
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-www-form-urlencoded; charset=utf-8");
            using (var response = await client.PostAsync(url, content).ConfigureAwait(false))
            {
                return await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            }
        }
    }

    private static string Post(HttpClient client, string url, byte[] form)
    {
        using (var content = new ByteArrayContent(form))
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-www-form-urlencoded; charset=utf-8");
            using (var response = client.PostAsync(url, content).GetAwaiter().GetResult())
            {
                return response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>Posts a pre-encoded form from a file, streamed (the HttpClient baseline when curl is missing).</summary>
    public static string PostFile(HttpClient client, string url, string path)
    {
        using (var stream = File.OpenRead(path))
        using (var content = new StreamContent(stream, 1 << 20))
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-www-form-urlencoded; charset=utf-8");
            using (var response = client.PostAsync(url, content).GetAwaiter().GetResult())
            {
                return response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>
    /// Writes a valid sdmailact form of exactly <paramref name="length"/> bytes whose body is
    /// base64 text in 76-character CRLF lines, form-encoded (as an attachment's would be): the
    /// large-send baseline, the same size as what the module sent.
    /// </summary>
    public static void WriteLargeForm(string path, long length, string to, string subject)
    {
        var head = Encoding.ASCII.GetBytes("api=lc&mto=" + FormEncode(to) + "&msub=" + FormEncode(subject) + "&body=");
        var tail = Encoding.ASCII.GetBytes("&mheader=" + FormEncode("MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64") + "&snd=checked");
        long bodyLength = length - head.Length - tail.Length;
        if (bodyLength < 0) throw new ArgumentOutOfRangeException(nameof(length));
        var random = new Random(1);
        var raw = new byte[57];
        using (var output = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            output.Write(head, 0, head.Length);
            long written = 0;
            var line = new List<byte>(256);
            while (written < bodyLength)
            {
                random.NextBytes(raw);
                line.Clear();
                foreach (var c in Convert.ToBase64String(raw))
                {
                    if (c == '+') line.AddRange(new[] { (byte)'%', (byte)'2', (byte)'B' });
                    else if (c == '/') line.AddRange(new[] { (byte)'%', (byte)'2', (byte)'F' });
                    else if (c == '=') line.AddRange(new[] { (byte)'%', (byte)'3', (byte)'D' });
                    else line.Add((byte)c);
                }
                line.AddRange(Encoding.ASCII.GetBytes("%0D%0A"));
                var count = (int)Math.Min(line.Count, bodyLength - written);
                // Cut only where no %XX is split: pad the last piece with letters instead.
                var bytes = line.ToArray();
                if (count < bytes.Length)
                {
                    for (int i = 0; i < count; i++) bytes[i] = (byte)'A';
                }
                output.Write(bytes, 0, count);
                written += count;
            }
            output.Write(tail, 0, tail.Length);
            // On disk before any send is measured: no write-back runs under one.
            output.Flush(flushToDisk: true);
        }
    }
}
