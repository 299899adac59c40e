// Compiled twice: by MSBuild's RoslynCodeTaskFactory (build/TorchSharpNativeFix.targets) and by
// tests/HyperTune.Agent.Tests, which defines HYPERTUNE_ELF_PATCHER_ONLY to leave out the MSBuild task.
// The task factory compiles against netstandard, hence no spans, BinaryPrimitives or OperatingSystem here.
#nullable enable
using System;
using System.IO;
using System.Text;

namespace HyperTune.Build;

/// <summary>What <see cref="ElfVersionNeedPatcher.MarkWeak"/> did to a file.</summary>
public enum ElfPatchResult
{
    Patched,
    AlreadyWeak,
    VersionNotNeeded,
}

/// <summary>
/// Marks one symbol-version requirement (an Elfxx_Vernaux entry of .gnu.version_r) weak, so that the dynamic
/// loader only warns instead of refusing the library when the system lacks that version.
/// </summary>
public static class ElfVersionNeedPatcher
{
    public const ushort VerFlagWeak = 0x2;
    private const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>Sets VER_FLG_WEAK on every requirement of <paramref name="versionName"/>; rewrites the file by replacing it (never in place, so a hard link's other names keep the original).</summary>
    public static ElfPatchResult MarkWeak(string path, string versionName)
    {
        var bytes = File.ReadAllBytes(path);
        var result = MarkWeak(bytes, versionName, path);
        if (result != ElfPatchResult.Patched)
        {
            return result;
        }

        var lastWrite = File.GetLastWriteTimeUtc(path);
        var temp = path + ".patching";
        File.Copy(path, temp, overwrite: true); // a new inode that keeps the file mode
        File.WriteAllBytes(temp, bytes);
        // Keeping the timestamp lets MSBuild's incremental copy treat the file as up to date.
        File.SetLastWriteTimeUtc(temp, lastWrite);
        File.Replace(temp, path, destinationBackupFileName: null);
        return result;
    }

    /// <summary>Patches <paramref name="elf"/> in memory; <paramref name="name"/> only labels errors.</summary>
    public static ElfPatchResult MarkWeak(byte[] elf, string versionName, string name = "ELF file")
    {
        var entries = FindVersionNeeds(elf, versionName, name);
        if (entries.Length == 0)
        {
            return ElfPatchResult.VersionNotNeeded;
        }

        var reader = new ElfReader(elf, name);
        var changed = false;
        foreach (var flagsOffset in entries)
        {
            var flags = reader.U16(flagsOffset);
            if ((flags & VerFlagWeak) == 0)
            {
                reader.WriteU16(flagsOffset, (ushort)(flags | VerFlagWeak));
                changed = true;
            }
        }

        return changed ? ElfPatchResult.Patched : ElfPatchResult.AlreadyWeak;
    }

    /// <summary>The vna_flags of every requirement of <paramref name="versionName"/>.</summary>
    public static ushort[] ReadFlags(byte[] elf, string versionName, string name = "ELF file")
    {
        var reader = new ElfReader(elf, name);
        return Array.ConvertAll(FindVersionNeeds(elf, versionName, name), reader.U16);
    }

    /// <summary>File offsets of the vna_flags fields whose vna_name is <paramref name="versionName"/>.</summary>
    private static int[] FindVersionNeeds(byte[] elf, string versionName, string name)
    {
        var r = new ElfReader(elf, name);
        var found = new System.Collections.Generic.List<int>();
        for (var i = 0; i < r.SectionCount; i++)
        {
            var section = r.Section(i);
            if (section.Type != ShtGnuVerneed)
            {
                continue;
            }

            var strings = r.Section((int)section.Link);
            var verneed = section.Offset;
            for (var n = 0; n < section.Info; n++)
            {
                // Elfxx_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32 (same in both classes).
                var count = r.U16(verneed + 2);
                var vernaux = verneed + (int)r.U32(verneed + 8);
                for (var a = 0; a < count; a++)
                {
                    // Elfxx_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
                    if (r.CString(strings.Offset + (int)r.U32(vernaux + 8), strings) == versionName)
                    {
                        found.Add(vernaux + 4);
                    }

                    var nextAux = r.U32(vernaux + 12);
                    if (nextAux == 0)
                    {
                        break;
                    }

                    vernaux += (int)nextAux;
                }

                var next = r.U32(verneed + 12);
                if (next == 0)
                {
                    break;
                }

                verneed += (int)next;
            }
        }

        return found.ToArray();
    }

    private readonly struct SectionHeader(uint type, int offset, int size, uint link, uint info)
    {
        public uint Type { get; } = type;

        public int Offset { get; } = offset;

        public int Size { get; } = size;

        public uint Link { get; } = link;

        public uint Info { get; } = info;
    }

    private sealed class ElfReader
    {
        private readonly byte[] _elf;
        private readonly string _name;
        private readonly bool _is64;
        private readonly bool _little;
        private readonly long _sectionTable;
        private readonly int _sectionSize;

        public ElfReader(byte[] elf, string name)
        {
            _elf = elf;
            _name = name;
            if (elf.Length < 52 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            {
                throw new InvalidDataException($"{name} is not an ELF file (bad magic)");
            }

            _is64 = elf[4] switch
            {
                1 => false,
                2 => true,
                _ => throw new InvalidDataException($"{name} has an unknown ELF class {elf[4]}"),
            };
            _little = elf[5] switch
            {
                1 => true,
                2 => false,
                _ => throw new InvalidDataException($"{name} has an unknown ELF data encoding {elf[5]}"),
            };
            _sectionTable = _is64 ? (long)U64(0x28) : U32(0x20);
            _sectionSize = U16(_is64 ? 0x3A : 0x2E);
            SectionCount = U16(_is64 ? 0x3C : 0x30);
            if (SectionCount == 0 && _sectionTable != 0)
            {
                // More than 0xff00 sections: the real count is in section 0's sh_size.
                SectionCount = Section(0).Size;
            }

            if (_sectionTable + ((long)SectionCount * _sectionSize) > elf.Length)
            {
                throw new InvalidDataException($"{name} is truncated: its section header table ends past the file's {elf.Length} bytes");
            }
        }

        public int SectionCount { get; }

        public SectionHeader Section(int index)
        {
            var at = checked((int)(_sectionTable + ((long)index * _sectionSize)));
            var header = _is64
                ? new SectionHeader(U32(at + 4), checked((int)U64(at + 0x18)), checked((int)U64(at + 0x20)), U32(at + 0x28), U32(at + 0x2C))
                : new SectionHeader(U32(at + 4), checked((int)U32(at + 0x10)), checked((int)U32(at + 0x14)), U32(at + 0x18), U32(at + 0x1C));
            if ((long)header.Offset + header.Size > _elf.Length && header.Type != 8 /* SHT_NOBITS */)
            {
                throw new InvalidDataException($"{_name}: section {index} (offset {header.Offset}, size {header.Size}) ends past the file's {_elf.Length} bytes");
            }

            return header;
        }

        public ushort U16(int at) => (ushort)Read(at, 2);

        public uint U32(int at) => (uint)Read(at, 4);

        public ulong U64(int at) => Read(at, 8);

        public void WriteU16(int at, ushort value)
        {
            Check(at, 2);
            _elf[_little ? at : at + 1] = (byte)value;
            _elf[_little ? at + 1 : at] = (byte)(value >> 8);
        }

        public string CString(int at, SectionHeader within)
        {
            var end = Array.IndexOf(_elf, (byte)0, at, within.Offset + within.Size - at);
            if (end < 0)
            {
                throw new InvalidDataException($"{_name}: unterminated string at offset {at}");
            }

            return Encoding.ASCII.GetString(_elf, at, end - at);
        }

        private ulong Read(int at, int length)
        {
            Check(at, length);
            ulong value = 0;
            for (var i = 0; i < length; i++)
            {
                value |= (ulong)_elf[_little ? at + i : at + length - 1 - i] << (8 * i);
            }

            return value;
        }

        private void Check(int at, int length)
        {
            if (at < 0 || at + length > _elf.Length)
            {
                throw new InvalidDataException($"{_name}: access of {length} bytes at offset {at} is past the file's {_elf.Length} bytes");
            }
        }
    }
}

/// <summary>Tells whether a shared library defines a symbol version, by its version-definition string.</summary>
public static class SystemLibrary
{
    /// <summary>The system libstdc++ (as ldconfig would resolve it), or null when none is found.</summary>
    public static string? FindLibStdCxx()
    {
        string[] candidates =
        [
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6",
            "/usr/lib/libstdc++.so.6",
        ];
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>True when <paramref name="library"/> carries the NUL-terminated string <paramref name="versionName"/> (its version definitions are strings in .dynstr).</summary>
    public static bool Defines(string library, string versionName)
    {
        var needle = Encoding.ASCII.GetBytes(versionName + "\0");
        var haystack = File.ReadAllBytes(library);
        for (var at = Array.IndexOf(haystack, needle[0]); at >= 0 && at <= haystack.Length - needle.Length; at = Array.IndexOf(haystack, needle[0], at + 1))
        {
            var i = 1;
            while (i < needle.Length && haystack[at + i] == needle[i])
            {
                i++;
            }

            if (i == needle.Length)
            {
                return true;
            }
        }

        return false;
    }
}

#if !HYPERTUNE_ELF_PATCHER_ONLY
/// <summary>MSBuild task: marks the GLIBCXX_3.4.32 requirement of libLibTorchSharp.so weak when the system libstdc++ lacks it.</summary>
public sealed class PatchLibTorchSharpVersionNeed : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required]
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = [];

    [Microsoft.Build.Framework.Required]
    public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux) || Files.Length == 0)
        {
            return true;
        }

        var libstdcxx = SystemLibrary.FindLibStdCxx();
        if (libstdcxx is null)
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, "No system libstdc++.so.6 found; libLibTorchSharp.so left as shipped");
            return true;
        }

        if (SystemLibrary.Defines(libstdcxx, VersionName))
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"{libstdcxx} defines {VersionName}; libLibTorchSharp.so left as shipped");
            return true;
        }

        foreach (var file in Files)
        {
            var result = ElfVersionNeedPatcher.MarkWeak(file.ItemSpec, VersionName);
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, $"{file.ItemSpec}: {VersionName} requirement {result} ({libstdcxx} lacks it)");
        }

        return !Log.HasLoggedErrors;
    }
}
#endif
