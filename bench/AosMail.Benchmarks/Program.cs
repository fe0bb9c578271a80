using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using AosMail.Engine;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// A short, in-process job: a few minutes on two cores, not tens.
var config = ManualConfig.CreateMinimumViable()
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddDiagnoser(MemoryDiagnoser.Default);
BenchmarkSwitcher.FromAssembly(typeof(FormBenchmarks).Assembly).Run(args, config);

/// <summary>
/// The form for a message with an 8 MB attachment: streamed (MimeKit -> form encoding -> a sink,
/// with the measuring pass, as a send does) vs buffered (the entity written to memory, made a
/// string, then form-encoded: what the module did before issue 6). Allocated bytes show the copy.
/// </summary>
[MemoryDiagnoser]
public class FormBenchmarks
{
    private string _folder = "";
    private AosPreparedSubmission _prepared = null!;
    private AosPreparedSubmission _plain = null!;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "aosmail-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        var path = Path.Combine(_folder, "attachment.bin");
        var bytes = new byte[8 * 1024 * 1024];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        var message = new AosMessage { Subject = "Bench", Body = "<p>Grüße</p>", BodyIsHtml = true };
        message.To.Add("bob@sandbox.test");
        message.Attachments.Add(AosAttachmentSource.FromFile(path));
        _prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);

        var plain = new AosMessage { Subject = "Bench", Body = "Row 1 of the bulk benchmark.\nSecond line." };
        plain.To.Add("bob@sandbox.test");
        _plain = AosFormBuilder.Prepare(plain, AosSubmitKind.Send);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, true);

    [Benchmark(Baseline = true, Description = "8 MB attachment: streamed form (measure + write)")]
    public async Task<long> Streamed()
    {
        using var content = new AosFormContent(_prepared.Fields);
        long length = content.Length;
        await content.CopyToAsync(Stream.Null);
        return length;
    }

    [Benchmark(Description = "8 MB attachment: buffered form (entity -> string -> encode)")]
    public long Buffered()
    {
        var fields = new List<AosFormField>();
        foreach (var field in _prepared.Fields)
        {
            fields.Add(field.IsStreamed ? AosFormField.Plain(field.Name, field.Materialize()) : field);
        }

        var bytes = new AosFormContent(fields).ToArray();
        return bytes.Length;
    }

    [Benchmark(Description = "plain message: Prepare + form (bulk, per message)")]
    public long PlainMessage()
    {
        var message = new AosMessage { Subject = "Bench", Body = "Row 1 of the bulk benchmark.\nSecond line." };
        message.To.Add("bob@sandbox.test");
        var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
        return new AosFormContent(prepared.Fields).ToArray().Length;
    }
}
