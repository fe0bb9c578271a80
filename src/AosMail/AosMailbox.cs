namespace AosMail
{
    /// <summary>One of the user's mailboxes (mboxtable, docs/aos-protocol.md B19): emitted by Get-AosMailbox.</summary>
    public sealed class AosMailbox
    {
        internal AosMailbox(string name, int? messageCount, int? unreadCount, string userName)
        {
            Name = name;
            MessageCount = messageCount;
            UnreadCount = unreadCount;
            UserName = userName;
        }

        /// <summary>The name to give -Mailbox.</summary>
        public string Name { get; }

        /// <summary>How many messages it holds, when the server says.</summary>
        public int? MessageCount { get; }

        /// <summary>How many of them are new (unread), when the server says.</summary>
        public int? UnreadCount { get; }

        /// <summary>The account the mailbox belongs to.</summary>
        public string UserName { get; }

        public override string ToString() => Name;
    }
}
