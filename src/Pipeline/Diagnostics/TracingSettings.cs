using System.Globalization;

namespace Pipeline;

/// <summary>
/// Per-item tracing of a pipeline (<c>Pipelines:{name}:Tracing</c>): for a sampled item, each call of stage code on it (each
/// transform and the sink; a sink that takes batches, per batch) runs inside its own <see cref="System.Diagnostics.Activity"/> on the
/// <c>Pipeline</c> activity source, so what stage code records or sends on (a Redis stream entry's <c>traceparent</c>) belongs to the
/// item's trace. The activities' parent is the run's activity, or the W3C trace context the source item carries
/// (<see cref="PositionedItem{T}.TraceContext"/>), so a consumer's spans continue the producer's trace.
/// </summary>
public sealed class TracingSettings
{
    /// <summary>Gets or sets the share of the source's items that are traced.</summary>
    /// <value>
    /// The default value is 0: no item is traced, and items cost nothing for it. Allowed: 0 to 1 (1 traces every item). Items are
    /// sampled as they leave the source, and only while a listener listens to the <c>Pipeline</c> activity source.
    /// </value>
    public double SampleRatio { get; set; }

    internal TracingSettings Clone() => new() { SampleRatio = SampleRatio };

    /// <summary>Throws when a value is out of range; <paramref name="keyPrefix"/> begins the name of each key in the message.</summary>
    /// <exception cref="ArgumentException">Thrown when <see cref="SampleRatio"/> is not between 0 and 1.</exception>
    internal void Validate(string keyPrefix)
    {
        if (!(SampleRatio >= 0 && SampleRatio <= 1))
        {
            throw new ArgumentException($"{keyPrefix}SampleRatio must be between 0 and 1, was {SampleRatio.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}
