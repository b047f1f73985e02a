using System.Diagnostics;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// Issue 11, faults: a real full disk. A 256 KiB tmpfs is mounted for the test (where the machine allows it: root and
/// a kernel that lets this process mount; CI's machine does), the model lives outside it, and every output goes into
/// it. The write fails with ENOSPC part way through; the run must exit 2 with one line, leave no temporary file, leave
/// the earlier outputs as they were and the input untouched.
/// </summary>
public sealed class FullDiskTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sprune-fulldisk-").FullName;
    private readonly string _mount;
    private readonly bool _mounted;
    private readonly ITestOutputHelper _log;

    public FullDiskTests(ITestOutputHelper log)
    {
        _log = log;
        _mount = Path.Combine(_dir, "small");
        Directory.CreateDirectory(_mount);
        _mounted = OperatingSystem.IsLinux() && Run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", _mount) == 0;
    }

    public void Dispose()
    {
        if (_mounted) Run("umount", _mount);
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void FullDisk_ExitsTwo_NoTemporaryFile_EarlierOutputsAndInputUntouched()
    {
        if (!_mounted)
        {
            _log.WriteLine("not run: this machine does not let the test mount a tmpfs (needs root)");
            return;
        }
        // 1 MiB of F32 (two 512 KiB tensors): more than the tmpfs holds.
        string model = new TensorFile()
            .F32("fc1.weight", TestData.Normal(131072, 1), 256, 512)
            .F32("fc2.weight", TestData.Normal(131072, 2), 512, 256)
            .Save(Path.Combine(_dir, "model.safetensors"));
        byte[] inputHash = SHA256.HashData(File.ReadAllBytes(model));
        string output = Path.Combine(_mount, "out.safetensors"), report = Path.Combine(_mount, "report.json");
        File.WriteAllText(output, "an earlier result");
        File.WriteAllText(report, "an earlier report");

        foreach (string[] extra in new[] { Array.Empty<string>(), ["--scope", "global"], ["--report", report, "--fsync"] })
        {
            Sprune.Result r = Sprune.Run(["prune", model, "-o", output, "--sparsity", "0.5", .. extra]);
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.StdErr.Trim().Split('\n'));
            Assert.Contains($"the output '{output}' was not written: No space left on device", r.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.StdErr, StringComparison.Ordinal);

            Assert.Equal(["out.safetensors", "report.json"], Directory.GetFileSystemEntries(_mount).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal("an earlier result", File.ReadAllText(output));
            Assert.Equal("an earlier report", File.ReadAllText(report));
            Assert.Equal(inputHash, SHA256.HashData(File.ReadAllBytes(model)));
        }

        // The same run with room to write succeeds (the failure above was the disk, not the request).
        string roomy = Path.Combine(_dir, "out.safetensors");
        Assert.Equal(0, Sprune.Run("prune", model, "-o", roomy, "--sparsity", "0.5").ExitCode);
    }

    private static int Run(string program, params string[] args)
    {
        try
        {
            using Process p = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1; // no such program
        }
    }
}
