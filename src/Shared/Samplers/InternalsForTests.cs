using System.Runtime.CompilerServices;

// The samplers' numerical cores (GaussianProcess, ParzenEstimator) are internal; their tests check them against closed forms.
[assembly: InternalsVisibleTo("HyperTune.Shared.Tests")]
