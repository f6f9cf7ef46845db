using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Pipeline.Tests.TestStages;

namespace Pipeline.Tests.Hosting;

public class DeadLetterPathTests
{
    [Fact(Timeout = 30_000)]
    public async Task RelativeDeadLetterPath_InAHost_IsResolvedAgainstTheContentRoot()
    {
        var contentRoot = Directory.CreateTempSubdirectory("pipeline-content-root-").FullName;
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = contentRoot });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Pipelines:numbers:DeadLetter:Path"] = "dead-letters/numbers.jsonl",
                ["Pipelines:numbers:Stages:check:OnError"] = "DeadLetter",
            });
            builder.Services.AddPipeline("numbers", p => p
                .From("read", ct => Range(10, ct))
                .Then("check", x => x % 5 == 0 ? throw new FormatException($"bad {x}") : x)
                .To("sink", _ => { }));
            using var host = builder.Build();

            await host.StartAsync().WaitAsync(Bound);
            var result = await PipelineHostedServiceTests.ServiceOf(host).Completion.WaitAsync(Bound);
            await host.StopAsync().WaitAsync(Bound);

            Assert.Equal(PipelineStatus.Completed, result.Status);
            var expected = Path.Combine(contentRoot, "dead-letters", "numbers.jsonl");
            Assert.True(File.Exists(expected), $"no dead-letter file at {expected}");
            Assert.Equal(2, File.ReadAllLines(expected).Length);
            Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "dead-letters", "numbers.jsonl")));
        }
        finally
        {
            Directory.Delete(contentRoot, recursive: true);
        }
    }
}
