namespace AosMail.Engine
{
    /// <summary>
    /// Where the engine tells the story of a request. Implementations may be called from any
    /// thread; the cmdlets queue the lines and write them on the pipeline thread. The engine
    /// never passes a password, a session id or a message body to it.
    /// </summary>
    public interface IAosLog
    {
        void Verbose(string message);
        void Debug(string message);
    }

    /// <summary>A log that drops everything.</summary>
    public sealed class NullAosLog : IAosLog
    {
        public static readonly NullAosLog Instance = new NullAosLog();
        public void Verbose(string message) { }
        public void Debug(string message) { }
    }
}
