using System.Diagnostics;
using System.Reflection;
using HyperTune.Build;
using TorchSharp;

namespace HyperTune.Agent.Tests;

public sealed class ElfVersionNeedPatcherTests : IDisposable
{
    private const string Version = "GLIBCXX_3.4.32";
    private readonly string _folder = Directory.CreateTempSubdirectory("hypertune-elf-").FullName;

    private static string Shipped => typeof(ElfVersionNeedPatcherTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ShippedLibTorchSharp").Value!;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void MarkWeak_ShippedLibTorchSharp_SetsWeakFlagOnlyOnTheCopy()
    {
        var copy = CopyShipped();
        var before = File.ReadAllBytes(Shipped);

        var result = ElfVersionNeedPatcher.MarkWeak(copy, Version);

        Assert.Equal(ElfPatchResult.Patched, result);
        var flags = Assert.Single(ElfVersionNeedPatcher.ReadFlags(File.ReadAllBytes(copy), Version));
        Assert.Equal(ElfVersionNeedPatcher.VerFlagWeak, flags & ElfVersionNeedPatcher.VerFlagWeak);
        Assert.Equal(before, File.ReadAllBytes(Shipped));
        Assert.Equal(0, ElfVersionNeedPatcher.ReadFlags(before, Version).Single() & ElfVersionNeedPatcher.VerFlagWeak);
    }

    [Fact]
    public void MarkWeak_AlreadyPatched_ChangesNothing()
    {
        var copy = CopyShipped();
        ElfVersionNeedPatcher.MarkWeak(copy, Version);
        var once = File.ReadAllBytes(copy);

        var result = ElfVersionNeedPatcher.MarkWeak(copy, Version);

        Assert.Equal(ElfPatchResult.AlreadyWeak, result);
        Assert.Equal(once, File.ReadAllBytes(copy));
    }

    [Fact]
    public void MarkWeak_HardLinkedFile_LeavesTheOtherNameAsShipped()
    {
        var original = CopyShipped();
        var linked = Path.Combine(_folder, "linked.so");
        using (var ln = Process.Start("ln", [original, linked]))
        {
            ln.WaitForExit();
            Assert.Equal(0, ln.ExitCode);
        }

        ElfVersionNeedPatcher.MarkWeak(linked, Version);

        Assert.Equal(File.ReadAllBytes(Shipped), File.ReadAllBytes(original));
        Assert.NotEqual(File.ReadAllBytes(original), File.ReadAllBytes(linked));
    }

    [Fact]
    public void MarkWeak_VersionNotNeeded_ReportsSoAndKeepsTheFile()
    {
        var copy = CopyShipped();

        var result = ElfVersionNeedPatcher.MarkWeak(copy, "GLIBCXX_9.9.99");

        Assert.Equal(ElfPatchResult.VersionNotNeeded, result);
        Assert.Equal(File.ReadAllBytes(Shipped), File.ReadAllBytes(copy));
    }

    [Fact]
    public void MarkWeak_NotAnElfFile_ThrowsNamingTheFile()
    {
        var text = Path.Combine(_folder, "notes.txt");
        File.WriteAllText(text, "this is not a shared library, just some text long enough to have a header");

        var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.MarkWeak(text, Version));

        Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildOutput_LibTorchSharp_IsWeakWhereTheSystemLacksTheVersionAndLoads()
    {
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var libstdcxx = SystemLibrary.FindLibStdCxx();
        Assert.NotNull(libstdcxx);
        var expected = SystemLibrary.Defines(libstdcxx, Version) ? 0 : ElfVersionNeedPatcher.VerFlagWeak;

        var flags = ElfVersionNeedPatcher.ReadFlags(File.ReadAllBytes(output), Version).Single();

        Assert.Equal(expected, flags & ElfVersionNeedPatcher.VerFlagWeak);
        using var sum = torch.ones(3).sum();
        Assert.Equal(3f, sum.item<float>());
    }

    private string CopyShipped()
    {
        var copy = Path.Combine(_folder, "libLibTorchSharp.so");
        File.Copy(Shipped, copy, overwrite: true);
        return copy;
    }
}
