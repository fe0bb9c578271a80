using AosMail.Engine;

namespace AosMail
{
    /// <summary>
    /// A message that came from a mailbox (a listing row or a read message): where it is and
    /// the session it was listed with, so that a piped message is read, sent or saved through
    /// that session and only a draft can be sent or saved by id.
    /// </summary>
    internal interface IAosStoredMessage
    {
        string Id { get; }
        string Mailbox { get; }
        bool IsDraft { get; }
        AosConnection Origin { get; }
    }
}
