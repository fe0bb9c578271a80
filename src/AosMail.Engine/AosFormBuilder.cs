using System;

namespace AosMail.Engine
{
    /// <summary>
    /// Validates an <see cref="AosMessage"/> and maps it to sdmailact fields (B5 to B12),
    /// building MIME with MimeKit where the body needs it. Throws <see cref="AosException"/>
    /// with a validation error id; never touches the network.
    /// </summary>
    public static class AosFormBuilder
    {
        public static AosPreparedSubmission Prepare(AosMessage message, AosSubmitKind kind)
        {
            throw new NotImplementedException();
        }
    }
}
