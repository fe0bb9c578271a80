using System;
using System.IO;
using System.Management.Automation;
using AosMail.Engine;
using AosMail.Internal;

namespace AosMail.Commands
{
    /// <summary>
    /// Save-AosMessage: streams a message's raw bytes (rdmail) to a .eml file, byte for byte:
    /// -Path names the file; -Destination names a folder and each message becomes "&lt;Id&gt;.eml".
    /// </summary>
    [Cmdlet(VerbsData.Save, "AosMessage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low,
        DefaultParameterSetName = SessionSet)]
    [OutputType(typeof(FileInfo))]
    public sealed class SaveAosMessageCommand : AosReadCmdlet
    {
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Id { get; set; } = "";

        /// <summary>The mailbox (default: Inbox).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(Completion.AosMailboxCompleter))]
        [ValidateNotNullOrEmpty]
        public string? Mailbox { get; set; }

        /// <summary>The file to write (relative to the current location).</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        /// <summary>An existing folder: each message is written there as "&lt;Id&gt;.eml".</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>Overwrite an existing file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Output the written file.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        private string? _folder;
        private CountProgress? _savedProgress;
        private long _saved;

        protected override void BeginProcessing()
        {
            if ((Path is null) == (Destination is null))
            {
                ThrowTerminatingError(NewError(AosErrorIds.ConflictingParameters, AosErrorCategory.InvalidArgument,
                    "Give either -Path (the file to write) or -Destination (a folder for <Id>.eml files), not both and not neither.", null));
            }

            if (Destination is not null)
            {
                string? folder = FileSystemPath.Resolve(SessionState, Destination);
                if (folder is null || !Directory.Exists(folder))
                {
                    ThrowTerminatingError(NewError(AosErrorIds.InvalidPath, AosErrorCategory.ObjectNotFound,
                        $"The destination folder '{Destination}' does not exist (or is not a file-system folder).", Destination));
                }

                _folder = folder;
            }

            base.BeginProcessing();
        }

        protected override void ProcessRecord()
        {
            try
            {
                AosConnection.CheckMessageId(Id);
            }
            catch (AosException e)
            {
                WriteError(ToErrorRecord(e, Row ?? e.Target));
                return;
            }

            string? file = _folder is null ? FileSystemPath.Resolve(SessionState, Path!) : System.IO.Path.Combine(_folder, Id + ".eml");
            if (file is null)
            {
                WriteError(NewError(AosErrorIds.InvalidPath, AosErrorCategory.InvalidArgument,
                    $"'{Path}' is not a file-system path.", Row ?? Path));
                return;
            }

            if (File.Exists(file) && !Force)
            {
                WriteError(NewError(AosErrorIds.FileExists, AosErrorCategory.ResourceExists,
                    $"The file '{file}' already exists; use -Force to overwrite it.", Row ?? file));
                return;
            }

            AosConnection connection = ConnectionForRecord();
            string mailbox = Mailbox ?? connection.InboxMailbox;
            if (!ShouldProcess(file, $"Save message {Id} from {mailbox}")) return;

            long written;
            try
            {
                // Streamed into a temporary file beside the target and renamed once whole (a failed
                // read leaves nothing); a file that appeared meanwhile is not overwritten without -Force.
                written = Run((log, progress, ct) => connection.SaveMessageAsync(mailbox, Id, file, Force, log, ct, progress),
                    progressLabel: $"Saving message {Id} to {file}");
            }
            catch (AosException e)
            {
                WriteError(ToErrorRecord(e, Row ?? e.Target));
                return;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                bool exists = e is IOException && !(e is DirectoryNotFoundException) && File.Exists(file) && !Force;
                WriteError(NewError(exists ? AosErrorIds.FileExists : AosErrorIds.InvalidPath,
                    exists ? AosErrorCategory.ResourceExists : AosErrorCategory.WriteError,
                    $"Could not write '{file}': {e.Message}", Row ?? file, e));
                return;
            }

            WriteVerbose($"Saved message {Id} from {mailbox} ({written} bytes) to {file}.");
            WriteSavedProgress(file);
            if (PassThru) WriteObject(new FileInfo(file));
        }

        protected override void EndProcessing()
        {
            ProgressRecord? last = _savedProgress?.Complete();
            if (last is not null) WriteProgress(last);
        }

        /// <summary>How many messages are saved so far, when many are piped in.</summary>
        private void WriteSavedProgress(string file)
        {
            _savedProgress ??= new CountProgress(0x407, "Saving messages", () => ProgressWanted);
            ProgressRecord? record = _savedProgress.Next(++_saved, $"{_saved} messages saved, the last to {file}");
            if (record is not null) WriteProgress(record);
        }
    }
}
