using Microsoft.Extensions.Configuration;

namespace LogAnalytics.Tests;

public sealed class RoleConfigurationTests
{
    [Fact]
    public void WithoutStages_OtherRolesStages_LeavesThemOutAndKeepsEverythingElse()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pipelines:access-logs:Stages:parse:Parallelism"] = "2",
            ["Pipelines:access-logs:Stages:store:Handoff:Capacity"] = "4",
            ["Pipelines:access-logs:Stages:storage:Parallelism"] = "3",
            ["Pipelines:access-logs:Redis:Stream"] = "access-logs",
            ["Store:Path"] = "db.sqlite",
        }).Build();

        var producer = RoleConfiguration.WithoutStages(configuration, ["enrich", "store"]);

        Assert.Equal("2", producer["Pipelines:access-logs:Stages:parse:Parallelism"]);
        Assert.Null(producer["Pipelines:access-logs:Stages:store:Handoff:Capacity"]);
        Assert.False(producer.GetSection("Pipelines:access-logs:Stages:store").Exists());

        // A stage no role has (a typo) stays, so the engine still names it.
        Assert.Equal("3", producer["Pipelines:access-logs:Stages:storage:Parallelism"]);
        Assert.Equal("access-logs", producer["Pipelines:access-logs:Redis:Stream"]);
        Assert.Equal("db.sqlite", producer["Store:Path"]);
    }
}
