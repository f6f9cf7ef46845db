using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static Pipeline.Redis.Tests.RedisTestKit;

namespace Pipeline.Redis.Tests;

/// <summary>Settings under <c>Pipelines:{name}:Redis</c>: validated at start with the full key, wired through dependency injection.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamOptionsTests(RedisServerFixture redis)
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "BatchSize", "0", "Pipelines:orders:Redis:BatchSize must be between 1 and 10000, was 0" },
        { "BatchSize", "10001", "Pipelines:orders:Redis:BatchSize must be between 1 and 10000, was 10001" },
        { "MaxDeliveries", "0", "Pipelines:orders:Redis:MaxDeliveries must be between 1 and 1000, was 0" },
        { "ClaimIdleTime", "00:00:00", "Pipelines:orders:Redis:ClaimIdleTime must be between 00:00:00.0100000 and 1.00:00:00, was 00:00:00" },
        { "Stream", "", "Pipelines:orders:Redis:Stream must be the key of a stream, was ''" },
        { "Group", " ", "Pipelines:orders:Redis:Group must be the name of a consumer group, was ' '" },
        { "ConnectionString", "", "Pipelines:orders:Redis:ConnectionString must be a Redis connection string such as 'localhost:6379', was empty" },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(BadSettings))]
    public async Task HostStart_BadRedisSetting_FailsNamingTheKeyTheValueAndTheAllowedValues(string key, string value, string expected)
    {
        using var host = BuildHost(new Dictionary<string, string?> { [$"Pipelines:orders:Redis:{key}"] = value }, _ => { });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Contains(expected, error.Failures);
    }

    [Fact(Timeout = 60_000)]
    public async Task HostStart_UnknownRedisKey_FailsNamingTheKey()
    {
        using var host = BuildHost(new Dictionary<string, string?> { ["Pipelines:orders:Redis:BatchSzie"] = "5" }, _ => { });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Equal(
            ["Pipelines:orders:Redis:BatchSzie is not a known setting; allowed: ConnectionString, Stream, Group, Consumer, BatchSize, ClaimIdleTime, MaxDeliveries, TrimAcknowledged"],
            error.Failures);
    }

    [Fact]
    public void Validate_MalformedConnectionString_NamesTheKeyAndNeverThePassword()
    {
        var options = new RedisStreamOptions { ConnectionString = "localhost:6379,password=TopSecret42,bogus=1", Stream = "s", Group = "g" };

        var result = new RedisStreamOptionsValidator().Validate("orders", options);

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Pipelines:orders:Redis:ConnectionString is not a valid Redis connection string", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("TopSecret42", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsNamingEverySetting()
    {
        var options = new RedisStreamOptions { Stream = "s", Group = "g", BatchSize = 0, MaxDeliveries = 0 };

        var error = Assert.Throws<ArgumentException>(() => new RedisStreamSource<int>(redis.Connection, options));

        Assert.Equal("options", error.ParamName);
        Assert.Contains("Redis:BatchSize must be between 1 and 10000, was 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("Redis:MaxDeliveries must be between 1 and 1000, was 0", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Connect_NoServerAtTheEndpoint_NamesTheEndpointAndTheKey_NeverThePassword()
    {
        var port = ClosedPort();

        var error = await Assert.ThrowsAsync<RedisUnavailableException>(() => RedisConnector.ConnectAsync(
            $"127.0.0.1:{port},password=TopSecret42,connectTimeout=1000,connectRetry=1", "Pipelines:orders:Redis:ConnectionString").WaitAsync(Bound));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("Pipelines:orders:Redis:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("TopSecret42", error.ToString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Host_ProducerAndConsumerPipelinesFromConfiguration_CarryEveryItemAcrossTheStream()
    {
        var stream = "hosted-" + Guid.NewGuid().ToString("N");
        var received = new System.Collections.Concurrent.ConcurrentQueue<int>();
        var signal = new SemaphoreSlim(0);
        using var host = BuildHost(
            new Dictionary<string, string?>
            {
                ["Pipelines:orders:Redis:Stream"] = stream,
                ["Pipelines:produce:Redis:ConnectionString"] = redis.ConnectionString,
                ["Pipelines:produce:Redis:Stream"] = stream,
            },
            services => services
                .AddRedisStreamSink<int>("produce")
                .AddPipeline("produce", p => p
                    .From("numbers", Enumerable.Range(1, 500))
                    .Batch("batch", size: 100, maxDelay: TimeSpan.FromMilliseconds(10))
                    .ToRedisStreamBatched<int>("write")),
            consume: item =>
            {
                received.Enqueue(item);
                signal.Release();
            });

        await host.StartAsync().WaitAsync(Bound);
        await WaitForAsync(() => received.Count >= 500, signal, "500 items through the hosted pipelines");
        await host.StopAsync().WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(1, 500), received);
    }

    private IHost BuildHost(Dictionary<string, string?> settings, Action<IServiceCollection> configure, Action<int>? consume = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pipelines:orders:Redis:ConnectionString"] = redis.ConnectionString,
            ["Pipelines:orders:Redis:Stream"] = "orders-" + Guid.NewGuid().ToString("N"),
            ["Pipelines:orders:Redis:Group"] = "workers",
            ["Pipelines:orders:Redis:Consumer"] = "worker-1",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddRedisStreamSource<int>("orders");
        builder.Services.AddPipeline("orders", p => p
            .FromRedisStream<int>("read")
            .To("collect", item => consume?.Invoke(item)));
        configure(builder.Services);
        return builder.Build();
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
