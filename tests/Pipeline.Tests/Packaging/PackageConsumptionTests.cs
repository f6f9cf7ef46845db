using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace Pipeline.Tests.Packaging;

/// <summary>
/// SLOW, NEEDS THE DOTNET SDK AND THE NUGET SOURCE: packs Pipeline.Primitives and Pipeline into a temporary folder, creates a fresh
/// worker project outside the repository that references them from that folder (and the machine's NuGet source for their
/// dependencies), and runs a small pipeline with them. Takes about a minute; filter it out with <c>Category!=Packaging</c>.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class PackageConsumptionTests
{
    private static readonly TimeSpan s_stepTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Packages_ConsumedFromALocalFeed_RunAPipelineInAFreshWorker()
    {
        var root = Path.Combine(Path.GetTempPath(), "pipeline-packages-" + Guid.NewGuid().ToString("N"));
        var feed = Path.Combine(root, "feed");
        var app = Path.Combine(root, "app");
        Directory.CreateDirectory(app);

        // A version of its own, so that a package cached by an earlier run is never used instead.
        var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var repository = FindRepositoryRoot();
        try
        {
            foreach (var project in new[] { "src/Primitives/Primitives.csproj", "src/Pipeline/Pipeline.csproj" })
            {
                // Its own configuration, so that the pack never rewrites the outputs other test runs are using.
                await RunAsync(repository, "pack", Path.Combine(repository, project), "-c", "PackageTest", "-o", feed, $"-p:Version={version}");
            }

            Assert.True(File.Exists(Path.Combine(feed, $"Pipeline.{version}.snupkg")));
            Assert.True(File.Exists(Path.Combine(feed, $"Pipeline.Primitives.{version}.snupkg")));
            var nuspec = ReadNuspec(Path.Combine(feed, $"Pipeline.{version}.nupkg"));
            var ns = nuspec.Root!.Name.Namespace;
            var metadata = nuspec.Root.Element(ns + "metadata")!;
            Assert.Equal("MIT", metadata.Element(ns + "license")?.Value);
            Assert.Equal("README.md", metadata.Element(ns + "readme")?.Value);
            Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")?.Value));
            Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "tags")?.Value));
            Assert.StartsWith("https://", metadata.Element(ns + "repository")?.Attribute("url")?.Value, StringComparison.Ordinal);
            Assert.Contains(metadata.Descendants(ns + "dependency"), d => d.Attribute("id")?.Value == "Pipeline.Primitives" && d.Attribute("version")?.Value == version);

            WriteConsumer(app, feed, version);
            var output = await RunAsync(app, "run", "--project", Path.Combine(app, "App.csproj"));

            Assert.Contains("Completed 333833500", output, StringComparison.Ordinal);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Left to the system's temp cleanup.
            }
        }
    }

    private static void WriteConsumer(string app, string feed, string version)
    {
        // Empty files stop MSBuild and NuGet from picking up settings of folders above the temporary one.
        File.WriteAllText(Path.Combine(app, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(app, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(app, "Directory.Packages.props"), "<Project />");
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Pipeline" Version="{version}" />
                <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.15" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.Extensions.Hosting;
            using Pipeline;
            using Pipeline.Primitives;

            var builder = Host.CreateApplicationBuilder(args);
            var total = 0L;
            var sinkRan = new Event();
            builder.Services.AddPipeline("numbers", pipeline => pipeline
                .From("read", Enumerable.Range(1, 1000))
                .Then("square", x => (long)x * x, stage => stage.Parallelism = 2)
                .Batch("batch", size: 100, maxDelay: TimeSpan.FromSeconds(1))
                .To("sum", batch => { total += batch.Sum(); sinkRan.Set(); }));
            using var host = builder.Build();
            await host.StartAsync();
            var result = await host.Services.GetServices<IHostedService>().OfType<PipelineHostedService>().Single().Completion;
            await host.StopAsync();
            Console.WriteLine($"{result.Status} {total} {sinkRan.IsSet}");
            return result.Status == PipelineStatus.Completed ? 0 : 1;
            """);
    }

    private static XDocument ReadNuspec(string package)
    {
        using var archive = ZipFile.OpenRead(package);
        var entry = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = entry.Open();
        return XDocument.Load(stream);
    }

    private static async Task<string> RunAsync(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The test host's MSBuild settings would leak into the child build.
        foreach (var variable in new[] { "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            start.Environment.Remove(variable);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(s_stepTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited with {process.ExitCode}:\n{output}");
        return output;
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Pipeline.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Pipeline.sln not found above " + AppContext.BaseDirectory);
    }
}
