using System.Diagnostics;

namespace EdgeLam.Agent.Tests.Publishing;

/// <summary>Publishing builds the agent and its references; it runs alone so that it does not compete with the broker tests for the CPU.</summary>
[CollectionDefinition(nameof(PublishTests), DisableParallelization = true)]
public sealed class PublishCollection;

[Collection(nameof(PublishTests))]
public sealed class PublishTests
{
    [Fact]
    public async Task Agent_publishes_framework_dependent_for_64_bit_arm_with_the_onnx_runtime_native_library()
    {
        string project = Path.Combine(RepositoryRoot(), "firmware", "sbc", "EdgeLam.Agent", "EdgeLam.Agent.csproj");
        string output = Path.Combine(Path.GetTempPath(), "edgelam-agent-publish-" + Guid.NewGuid().ToString("N"));
        try
        {
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { "publish", project, "-r", "linux-arm64", "--self-contained", "false", "-o", Path.Combine(output, "app"), "-nologo", "-v", "quiet" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            // A hang guard, not a speed check: a restore-and-publish on a loaded 2-core machine can take minutes.
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            Assert.True(process.ExitCode == 0, $"dotnet publish failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");

            string app = Path.Combine(output, "app");
            Assert.True(File.Exists(Path.Combine(app, "EdgeLam.Agent.dll")), "EdgeLam.Agent.dll is missing from the publish output");
            Assert.True(File.Exists(Path.Combine(app, "libonnxruntime.so")), "ONNX Runtime's linux-arm64 libonnxruntime.so is missing from the publish output");
            Assert.False(File.Exists(Path.Combine(app, "libcoreclr.so")), "the publish is self-contained; it should be framework-dependent");
            // The native library is the 64-bit ARM build: ELF e_machine 183 (EM_AARCH64).
            byte[] header = new byte[20];
            await using (var stream = File.OpenRead(Path.Combine(app, "libonnxruntime.so")))
                await stream.ReadExactlyAsync(header);
            Assert.Equal(183, BitConverter.ToUInt16(header, 18));
        }
        finally
        {
            try { Directory.Delete(output, recursive: true); } catch (IOException) { }
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EdgeLamIoT.sln"))) return directory.FullName;
        }

        throw new DirectoryNotFoundException($"No EdgeLamIoT.sln above {AppContext.BaseDirectory}.");
    }
}
