namespace HyperTune.Shared.SearchSpaces;

/// <summary>A spec field that is wrong: the path names the field, the message says why and shows the value.</summary>
public sealed class SpecException(string path, string problem) : Exception($"{path} {problem}")
{
    public string Path { get; } = path;

    public string Problem { get; } = problem;
}

/// <summary>One problem in a spec, for reporting many at once.</summary>
public sealed record FieldError(string Path, string Message);
