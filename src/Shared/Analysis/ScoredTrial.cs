using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Analysis;

/// <summary>A finished trial as the analyses see it: its number, its objective value and the parameters it ran with.</summary>
public sealed record ScoredTrial(int Number, double Value, IReadOnlyDictionary<string, ParamValue> Params);
