using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Bench;

/// <summary>
/// A coarse-to-fine study as the dashboard runs one with "auto": true, folded into one sampler for the benches: stages of
/// <paramref name="plan"/> trials (e.g. 50, 25 and 25) drawn at random from the stage's space, each stage after the first
/// zoomed around the best trial so far (<see cref="CoarseToFine.Zoom"/>, as StudyStore does once a stage has ended).
/// </summary>
internal sealed class StagedCoarseToFine(int seed, int[] plan) : ISampler
{
    private readonly int[] _plan = plan;
    private readonly RandomSampler _random = new(seed);
    private SearchSpace? _space;
    private int _stage;

    public IReadOnlyDictionary<string, ParamValue> Propose(SamplerContext context)
    {
        _space ??= context.Space;
        while (_stage + 1 < _plan.Length && context.TrialNumber >= _plan[..(_stage + 1)].Sum())
        {
            _space = CoarseToFine.Zoom(_space, context.History, context.Direction);
            _stage++;
        }

        return _random.Propose(context with { Space = _space });
    }
}
