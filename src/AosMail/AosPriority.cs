namespace AosMail
{
    /// <summary>Message priority as AOS numbers it in mprio (docs/aos-protocol.md B11): 1 is the highest.</summary>
    public enum AosPriority
    {
        Highest = 1,
        High = 2,
        Normal = 3,
        Low = 4,
        Lowest = 5,
    }
}
