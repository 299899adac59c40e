#!/usr/bin/python3
"""Optuna's rows of HyperTune's early-stopping bench (BENCHMARKS.md §2): prints one JSON object, per method a summary per seed."""
import argparse
import json
import math

import numpy as np
import optuna

EPOCHS = 27
OPTIMUM = 0.08
FRACTIONS = (0.10, 0.25, 0.50, 1.00)


def final_error(p):
    return (OPTIMUM + 0.30 * ((p["log_lr"] + 2.5) / 2) ** 2 + 0.05 * ((p["log_wd"] + 4) / 2) ** 2
            + 0.05 * (math.log2(p["width"]) - 8) ** 2 / 9 + 0.10 * (p["dropout"] - 0.3) ** 2)


def pruner(method):
    return {
        "none": optuna.pruners.NopPruner(),
        "median": optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0),
        "asha": optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
        "hyperband": optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS, reduction_factor=3),
    }[method]


def run(method, seed, budget):
    # A fixed study name: Hyperband hashes it with the trial number to pick brackets.
    study = optuna.create_study(study_name=f"early-stopping-{method}-{seed}", direction="minimize",
                                sampler=optuna.samplers.RandomSampler(seed=seed), pruner=pruner(method))
    noise = np.random.default_rng(seed)
    used = 0
    started = 0
    complete = []  # (epochs used when it completed, its e∞)
    while used < budget:
        trial = study.ask()
        started += 1
        p = {
            "log_lr": trial.suggest_float("log_lr", -5, -1),
            "log_wd": trial.suggest_float("log_wd", -6, -2),
            "width": trial.suggest_int("width", 16, 512, log=True),
            "dropout": trial.suggest_float("dropout", 0, 0.8),
        }
        e_inf = final_error(p)
        for t in range(1, EPOCHS + 1):
            if used >= budget:
                return started, complete
            used += 1
            value = e_inf + (0.9 - e_inf) * t ** -(0.3 + 0.25 * (p["log_lr"] + 5)) + noise.normal(0, 0.005)
            trial.report(value, t)
            # A trial that ran its last epoch is complete: nobody asks the pruner there.
            if t < EPOCHS and trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, value)
            complete.append((used, e_inf))
    return started, complete


def summary(started, complete, budget):
    """Best e∞ among trials that completed within each fraction of the budget, minus the optimum (§2's regret)."""
    regrets = []
    for fraction in FRACTIONS:
        seen = [e_inf for used, e_inf in complete if used <= fraction * budget]
        regrets.append(min(seen) - OPTIMUM if seen else None)
    return {"regrets": regrets, "started": started, "complete": len(complete)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=2700)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    result = {"version": optuna.__version__, "methods": {}}
    for method in ("none", "median", "asha", "hyperband"):
        result["methods"][method] = [summary(*run(method, seed, args.budget), args.budget) for seed in range(args.seeds)]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
