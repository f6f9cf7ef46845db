namespace LogAnalytics;

/// <summary>Which stages of the pipeline <c>access-logs</c> this process runs (configuration key <c>Role</c>).</summary>
public enum ProcessRole
{
    /// <summary>Every stage in this process: read → parse → enrich → batch → encode → store (the default).</summary>
    All,

    /// <summary>Read the input (with its checkpoint) and parse it, then append each request to the Redis stream.</summary>
    Producer,

    /// <summary>Take requests from the Redis stream through its consumer group, enrich, batch, encode and store them; several may run at once.</summary>
    Consumer,
}
