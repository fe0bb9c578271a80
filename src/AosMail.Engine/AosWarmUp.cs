using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace AosMail.Engine
{
    /// <summary>
    /// Runs the send path's own code once, into <see cref="Stream.Null"/>, on a background thread
    /// when the module makes its first connection: building a message (plain, and MIME with an
    /// HTML body and an attachment), measuring its form (Content-Length) and writing it.
    /// </summary>
    /// <remarks>
    /// A first send in a new process otherwise waits for the JIT to compile about 960 methods
    /// (MimeKit, the form builder, the writers), about 0.15 s of JIT for a 100 MB attachment that
    /// takes about as long to send warm: a scheduled task sending one report pays that every run.
    /// Compiled here while the session logs in, that work is off the send's path (about 460 are left:
    /// PowerShell's binding, the row pipeline, the request). Nothing is sent, read or written but memory; no secret is involved;
    /// a failure here changes nothing (the send compiles what it needs itself).
    /// </remarks>
    public static class AosWarmUp
    {
        private static readonly TaskCompletionSource<bool> Done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        private static int _started;

        /// <summary>What stopped the warm-up, if anything did (for tests: the product goes on without it).</summary>
        public static Exception? Failure { get; private set; }

        /// <summary>Ends when the warm-up has run (at once if it never started).</summary>
        public static Task Completed => Volatile.Read(ref _started) == 0 ? Task.CompletedTask : Done.Task;

        /// <summary>Starts the warm-up once per process, on a background thread that never holds the process open.</summary>
        public static void Start()
        {
            if (Interlocked.Exchange(ref _started, 1) != 0) return;
            var thread = new Thread(Run) { IsBackground = true, Name = "AosMail warm-up", Priority = ThreadPriority.BelowNormal };
            thread.Start();
        }

        private static void Run()
        {
            try
            {
                Write(Message(html: false));
                Write(Message(html: true));
                AosAnswer.IsOk(AosProtocol.AnswerOk);
            }
            catch (Exception e)
            {
                // Only time is lost: the first send compiles what is missing itself.
                Failure = e;
            }
            finally
            {
                Done.TrySetResult(true);
            }
        }

        private static AosMessage Message(bool html)
        {
            var message = new AosMessage
            {
                Subject = "warm-up",
                Body = html ? "<p>warm-up</p>" : "warm-up",
                BodyIsHtml = html,
            };
            message.To.Add("warm-up@example.org");
            if (html)
            {
                message.Attachments.Add(AosAttachmentSource.FromBytes("warm-up.bin", new byte[4096]));
            }

            return message;
        }

        private static void Write(AosMessage message)
        {
            var prepared = AosFormBuilder.Prepare(message, AosSubmitKind.Send);
            AosFormContent.Measure(prepared.Fields);
            using (var content = new AosFormContent(prepared.Fields))
            {
                content.CopyToAsync(Stream.Null).GetAwaiter().GetResult();
            }
        }
    }
}
