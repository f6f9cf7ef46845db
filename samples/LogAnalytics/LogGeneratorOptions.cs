namespace LogAnalytics;

/// <summary>What <see cref="LogGenerator"/> writes. The same options always give the same file, byte for byte.</summary>
public sealed class LogGeneratorOptions
{
    /// <summary>Gets or sets how many lines to write.</summary>
    /// <value>The default is 1,000,000.</value>
    public int Lines { get; set; } = 1_000_000;

    /// <summary>Gets or sets the seed of the pseudo-random sequence.</summary>
    /// <value>The default is 20260314.</value>
    public ulong Seed { get; set; } = 20260314;

    /// <summary>Gets or sets the share of lines, 0 to 1, in the Common Log Format (no referer and user agent); the rest are Combined.</summary>
    /// <value>The default is 0: every line Combined.</value>
    public double CommonShare { get; set; }

    /// <summary>Gets or sets the share of lines, 0 to 1, that are malformed (garbage, cut off, bad timestamp or status).</summary>
    /// <value>The default is 0.001 (0.1%).</value>
    public double MalformedShare { get; set; } = 0.001;

    /// <summary>Gets or sets the share of requests, 0 to 1, from IPv6 clients.</summary>
    /// <value>The default is 0.05.</value>
    public double Ipv6Share { get; set; } = 0.05;

    /// <summary>Gets or sets the start of the day the timestamps cover (24 hours from it, busiest around noon).</summary>
    /// <value>The default is 2026-03-14 00:00:00 UTC.</value>
    public DateTimeOffset Start { get; set; } = new(2026, 3, 14, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <see cref="Lines"/> is negative or a share is not between 0 and 1.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Lines, nameof(Lines));
        CheckShare(CommonShare, nameof(CommonShare));
        CheckShare(MalformedShare, nameof(MalformedShare));
        CheckShare(Ipv6Share, nameof(Ipv6Share));
    }

    private static void CheckShare(double share, string name)
    {
        if (!(share is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(name, share, $"{name} must be between 0 and 1, was {share}.");
        }
    }
}
