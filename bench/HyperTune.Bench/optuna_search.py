"""Optuna's side of the search bench: median simple regret at checkpoints, one JSON object on stdout.

usage: python3 optuna_search.py PROBLEM SEEDS TRIALS CHECKPOINTS(comma-separated) [SAMPLERS(comma-separated; empty: all)]
"""
import json
import math
import sys
import time

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

BRANIN_MIN = 0.397887
HARTMANN6_MIN = -3.32237
A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def branin(x1, x2):
    a = x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6
    return a * a + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


def hartmann6(x):
    x = np.asarray(x)
    return float(-np.sum(ALPHA * np.exp(-np.sum(A * (x - P) ** 2, axis=1))))


def objective(problem):
    if problem == "branin":
        return (lambda t: branin(t.suggest_float("x1", -5, 10), t.suggest_float("x2", 0, 15))), BRANIN_MIN
    if problem == "hartmann6":
        return (lambda t: hartmann6([t.suggest_float(f"x{i}", 0, 1) for i in range(6)])), HARTMANN6_MIN
    if problem == "branin6d":
        def f(t):
            xs = [t.suggest_float(f"x{i}", 0, 1) for i in range(6)]
            return branin(-5 + 15 * xs[0], 15 * xs[1])
        return f, BRANIN_MIN
    raise SystemExit(f"unknown problem {problem}")


SAMPLERS = {
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "tpe multivariate": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
}

try:
    import scipy.stats  # noqa: F401  QMCSampler needs SciPy (Debian's python3-scipy); without it the row is left out.
    SAMPLERS["sobol"] = lambda seed: optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed)
except ImportError:
    pass


def selected(argv, at):
    """The samplers named in argv[at] (comma-separated), or all when it is missing or empty."""
    names = argv[at].split(",") if len(argv) > at and argv[at] else list(SAMPLERS)
    return {name: make for name, make in SAMPLERS.items() if name in names}


def main():
    problem, seeds, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    checkpoints = [int(c) for c in sys.argv[4].split(",")]
    f, optimum = objective(problem)
    result = {}
    for name, make in selected(sys.argv, 5).items():
        regrets = {c: [] for c in checkpoints}
        started = time.perf_counter()
        for seed in range(seeds):
            study = optuna.create_study(sampler=make(seed), direction="minimize")
            study.optimize(f, n_trials=trials)
            values = [t.value for t in study.trials]
            for c in checkpoints:
                regrets[c].append(min(values[:c]) - optimum)
        elapsed = time.perf_counter() - started
        result[name] = {
            "regret": {str(c): float(np.median(v)) for c, v in regrets.items()},
            "ms_per_trial": 1000 * elapsed / (seeds * trials),
        }
    print(json.dumps({"version": optuna.__version__, "methods": result}))


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    main()
