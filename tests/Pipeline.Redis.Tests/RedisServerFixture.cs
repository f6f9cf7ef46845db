using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Pipeline.Redis.Tests;

/// <summary>
/// A real <c>redis-server</c> (the Debian package) on a free loopback port, persistence off, in a temporary directory; stopped and
/// removed afterwards. A missing binary fails the tests with a clear message: they are never skipped.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(30);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "pipeline-redis-" + Guid.NewGuid().ToString("N"));
    private Process? _server;

    public int Port { get; private set; }

    /// <summary>Gets a connection string to the server; the multiplexer reconnects by itself after a restart.</summary>
    public string ConnectionString => $"127.0.0.1:{Port},allowAdmin=true,connectTimeout=5000,syncTimeout=5000,asyncTimeout=5000";

    /// <summary>Gets a multiplexer shared by the tests.</summary>
    public IConnectionMultiplexer Connection { get; private set; } = null!;

    public IDatabase Database => Connection.GetDatabase();

    public async Task InitializeAsync()
    {
        if (FindOnPath("redis-server") is null)
        {
            throw new InvalidOperationException(
                "redis-server is not installed (not found on PATH). The Redis stream tests run a real server: install the Debian package "
                + "with 'apt-get install -y redis-server' (.ci/run does this on a fresh machine).");
        }

        Directory.CreateDirectory(_directory);
        Port = FreePort();
        await StartServerAsync();
        Connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (Connection is not null)
        {
            await Connection.DisposeAsync();
        }

        StopServer();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }
    }

    /// <summary>Restarts the server on the same port, keeping its data: <c>SHUTDOWN SAVE</c> writes a snapshot that the new process loads.</summary>
    public Task RestartAsync() => RestartAsync(() => Task.CompletedTask);

    /// <summary>
    /// Restarts the server on the same port, keeping its data, once <paramref name="whileDown"/> has finished: it runs after the server
    /// has exited, so a test can act during the outage and order its steps by signals rather than by a length of downtime.
    /// </summary>
    public async Task RestartAsync(Func<Task> whileDown)
    {
        ArgumentNullException.ThrowIfNull(whileDown);
        var server = _server!;
        using (var admin = await ConnectionMultiplexer.ConnectAsync(ConnectionString))
        {
            try
            {
                await admin.GetDatabase().ExecuteAsync("SHUTDOWN", "SAVE");
            }
            catch (RedisConnectionException)
            {
                // The server closes the connection instead of replying.
            }
        }

        await server.WaitForExitAsync().WaitAsync(StartBound);
        server.Dispose();
        try
        {
            await whileDown();
        }
        finally
        {
            await StartServerAsync();
        }
    }

    private async Task StartServerAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var argument in new[]
                 {
                     "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", _directory, "--daemonize", "no", "--protected-mode", "no",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var server = new Process { StartInfo = start, EnableRaisingEvents = true };
        server.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }

            output.Enqueue(line.Data);
            if (line.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        server.Exited += (_, _) => ready.TrySetException(new InvalidOperationException(
            $"redis-server exited at start with code {server.ExitCode}: {string.Join(Environment.NewLine, output)}"));
        server.Start();
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        _server = server;
        await ready.Task.WaitAsync(StartBound);
    }

    private void StopServer()
    {
        if (_server is { HasExited: false } server)
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit(10_000);
        }

        _server?.Dispose();
        _server = null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "redis-server";
}
