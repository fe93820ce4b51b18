using System.Diagnostics;

namespace EdgeLam.Contracts.Tests.Nano;

/// <summary>
/// Proves that build/nano/Nano.targets really compiles against nanoFramework's mscorlib: a source that
/// calls System.Math (absent on the device) must fail to build, and the same project without it must build.
/// </summary>
public sealed class NanoCompileCheckTests : IDisposable
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromSeconds(120);
    private readonly string _workFolder;

    public NanoCompileCheckTests()
    {
        // Inside the repository so that Directory.Build.props and the central package versions apply, as for real projects.
        _workFolder = Path.Combine(AppContext.BaseDirectory, "nano-check", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_workFolder);
    }

    [Fact]
    public async Task Device_missing_api_fails_the_build_and_plain_code_builds()
    {
        string withMath = WriteProject("WithMath", """
            namespace Probe
            {
                public static class Geometry
                {
                    public static double Length(double x, double y) { return System.Math.Sqrt(x * x + y * y); }
                }
            }
            """);
        string withoutMath = WriteProject("WithoutMath", """
            namespace Probe
            {
                public static class Geometry
                {
                    public static int SquaredLength(int x, int y) { return x * x + y * y; }
                }
            }
            """);

        // Both builds at once: each is mostly process start-up and restore.
        Task<BuildResult> failingBuild = Task.Run(() => Build(withMath));
        Task<BuildResult> passingBuild = Task.Run(() => Build(withoutMath));
        BuildResult failing = await failingBuild;
        BuildResult passing = await passingBuild;

        Assert.NotEqual(0, failing.ExitCode);
        Assert.Contains("error CS0234", failing.Output, StringComparison.Ordinal);
        Assert.Contains("'Math'", failing.Output, StringComparison.Ordinal);
        Assert.True(passing.ExitCode == 0, "control project failed to build:\n" + passing.Output);
    }

    private string WriteProject(string name, string source)
    {
        string folder = Path.Combine(_workFolder, name);
        Directory.CreateDirectory(folder);
        string targets = Path.Combine(RepositoryRoot(), "build", "nano", "Nano.targets");
        File.WriteAllText(Path.Combine(folder, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{targets}" />
              <ItemGroup>
                <Compile Include="Source.cs" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Source.cs"), source);
        return Path.Combine(folder, name + ".csproj");
    }

    private static BuildResult Build(string projectPath)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(projectPath)!,
        };
        foreach (string argument in new[] { "build", projectPath, "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-clp:NoSummary" })
        {
            start.ArgumentList.Add(argument);
        }

        // A test host started by 'dotnet test' inherits MSBuild variables that would redirect the child build.
        foreach (string variable in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            start.Environment.Remove(variable);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        using Process process = Process.Start(start)!;
        Task<string> standardOutput = process.StandardOutput.ReadToEndAsync();
        Task<string> standardError = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(BuildTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet build of " + projectPath + " did not finish within " + BuildTimeout);
        }

        return new BuildResult(process.ExitCode, standardOutput.Result + standardError.Result);
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder != null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "EdgeLamIoT.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("EdgeLamIoT.sln not found above " + AppContext.BaseDirectory);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_workFolder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the next clean; a failed delete must not hide the test result.
        }
    }

    private sealed record BuildResult(int ExitCode, string Output);
}
