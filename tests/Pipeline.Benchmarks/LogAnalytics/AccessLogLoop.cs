using LogAnalytics;

namespace Pipeline.Benchmarks.LogAnalytics;

/// <summary>
/// The baseline the sample's pipeline has to beat: one thread reading the same lines, parsing, enriching and storing them in the
/// same SQLite schema with the same batch transactions, with no pipeline in between.
/// </summary>
public static class AccessLogLoop
{
    /// <summary>Runs the loop over <paramref name="inputPath"/> into the database at <paramref name="storePath"/>.</summary>
    /// <returns>Lines read, stored (new) and malformed.</returns>
    public static async Task<(long Read, long Stored, long Malformed)> RunAsync(string inputPath, string storePath, int batchSize)
    {
        long read = 0, malformed = 0;
        using var store = RequestStore.Open(storePath);
        var batch = new List<EnrichedRequest>(batchSize);
        await foreach (var line in AccessLogSource.ReadAllAsync(inputPath).ConfigureAwait(false))
        {
            read++;
            AccessLogEntry entry;
            try
            {
                entry = AccessLogParser.Parse(line);
            }
            catch (FormatException)
            {
                malformed++;
                continue;
            }

            batch.Add(Enricher.Enrich(entry));
            if (batch.Count == batchSize)
            {
                store.Write(batch);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            store.Write(batch);
        }

        return (read, store.Inserted, malformed);
    }
}
