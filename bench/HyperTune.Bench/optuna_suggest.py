"""Optuna's side of the suggest bench: mean ms per suggestion over the first and the last WINDOW trials, one JSON object on stdout.

usage: python3 optuna_suggest.py DIMS(comma-separated) TRIALS SEEDS WINDOW [SAMPLERS(comma-separated; empty: all)]

A suggestion is study.ask() plus one suggest_float per parameter (multivariate TPE samples in ask, independent TPE in each
suggest_float), with the in-memory storage; the objective and study.tell are outside the clock.
"""
import json
import sys
import time

import optuna

from optuna_search import branin, selected

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(params):
    """Branin on the first two parameters of [0, 1]^d, plus (x - 0.5)^2 on each further one."""
    return branin(-5 + 15 * params[0], 15 * params[1]) + sum((x - 0.5) ** 2 for x in params[2:])


def times(make, seed, dims, trials):
    study = optuna.create_study(sampler=make(seed), direction="minimize")
    elapsed = []
    for _ in range(trials):
        started = time.perf_counter()
        trial = study.ask()
        params = [trial.suggest_float(f"x{i}", 0, 1) for i in range(dims)]
        elapsed.append(1000 * (time.perf_counter() - started))
        study.tell(trial, objective(params))
    return elapsed


def main():
    dims = [int(d) for d in sys.argv[1].split(",")]
    trials, seeds, window = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    result = {}
    for name, make in selected(sys.argv, 5).items():
        result[name] = {}
        for d in dims:
            times(make, 999, d, 30)  # warm-up, as on the .NET side
            runs = [times(make, seed, d, trials) for seed in range(seeds)]
            first = [t for run in runs for t in run[:window]]
            last = [t for run in runs for t in run[-window:]]
            result[name][str(d)] = [sum(first) / len(first), sum(last) / len(last)]
    print(json.dumps({"version": optuna.__version__, "methods": result}))


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    main()
