namespace AosMail.Engine
{
    /// <summary>
    /// Where the engine tells the story of a request. Implementations may be called from any
    /// thread; the cmdlets queue the lines and write them on the pipeline thread. The engine
    /// never passes a password, a session id or a message body to it.
    /// </summary>
    public interface IAosLog
    {
        /// <summary>Whether Verbose lines are wanted: per-request lines are only built when they are.</summary>
        bool IsVerboseEnabled { get; }

        /// <summary>Whether Debug lines are wanted.</summary>
        bool IsDebugEnabled { get; }

        void Verbose(string message);
        void Debug(string message);
    }

    /// <summary>A log that drops everything.</summary>
    public sealed class NullAosLog : IAosLog
    {
        public static readonly NullAosLog Instance = new NullAosLog();
        public bool IsVerboseEnabled => false;
        public bool IsDebugEnabled => false;
        public void Verbose(string message) { }
        public void Debug(string message) { }
    }
}
