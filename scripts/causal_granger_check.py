#!/usr/bin/env python3
"""Our Granger test (`causal infer --method granger`) against statsmodels on the same series.

Three independent tests on every ordered pair of every sample the app simulated:
  * `replica` (numpy and scipy, not statsmodels; see `replica`): our test rebuilt independently
    (each of the target's four series on the target's own four lagged series, with and without the
    source's four; Bonferroni over the four equations). Its −log10 p must equal ours.
  * `pairwise`: the textbook `grangercausalitytests` (ssr F-test, lag 1) of every source series
    → every target series, the smallest p over the 16, Bonferroni-corrected.
  * `var`: a full VAR(1) of all particles and `test_causality(target's four, source's four,
    kind="f")` (conditional Granger).
Each method's pooled AUROC is printed beside ours; p-values are ranked by −log10 p, which
statsmodels computes from p itself, so its tiny p-values underflow to 0 and tie.

    pip install statsmodels
    python3 scripts/causal_granger_check.py --bin target/release/inference-lab --samples 200
    python3 scripts/causal_granger_check.py --bin ... --samples 200 --noise 0.05
"""
import argparse
import csv
import json
import os
import subprocess
import tempfile
import time
import warnings

import numpy as np
from scipy import stats
from statsmodels.tools.sm_exceptions import InfeasibleTestError
from statsmodels.tsa.api import VAR
from statsmodels.tsa.stattools import grangercausalitytests

FEATURES = 4


def read_series(path):
    samples = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            s, t, n = int(row["sample"]), int(row["t"]), int(row["node"])
            samples.setdefault(s, {}).setdefault(t, {})[n] = [
                float(row[k]) for k in ("x", "y", "vx", "vy")
            ]
    out = {}
    for s, frames in samples.items():
        ts = sorted(frames)
        nodes = sorted(frames[ts[0]])
        out[s] = np.array([[frames[t][n] for n in nodes] for t in ts])  # [T, N, 4]
    return out


def read_edges(path, column):
    edges = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            edges[(int(row["sample"]), int(row["source"]), int(row["target"]))] = float(row[column])
    return edges


def neg_log10(p):
    return np.inf if p <= 0 else -np.log10(p)


def rss(x, y):
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    return float(((y - x @ beta) ** 2).sum())


def replica(series, source, target):
    """−log10 p of our test rebuilt with numpy's SVD least squares and scipy's F tail; None
    when nothing could be tested. (statsmodels' OLS is not used here: on a free particle, whose
    lagged design has rank 2 of 5, its pinv fit leaves a residual of ~1e-6 of the series where
    the exact one is ~1e-28, and the test would then report spurious p-values.)"""
    lag_t, lag_s = series[:-1, target, :], series[:-1, source, :]
    restricted = np.column_stack([np.ones(len(lag_t)), lag_t])
    unrestricted = np.column_stack([restricted, lag_s])
    d1 = unrestricted.shape[1] - restricted.shape[1]
    d2 = len(lag_t) - unrestricted.shape[1]
    best, tested = -np.inf, 0
    for f in range(FEATURES):
        y = series[1:, target, f]
        rss_r = rss(restricted, y)
        if rss_r <= 1e-20 * max(float(y @ y), np.finfo(float).tiny):
            continue
        rss_u = rss(unrestricted, y)
        fstat = (max(rss_r - rss_u, 0.0) / d1) / (rss_u / d2) if rss_u > 0 else np.inf
        log_tail = stats.f.logsf(fstat, d1, d2) / np.log(10)
        best, tested = max(best, -log_tail), tested + 1
    if tested == 0:
        return None
    return max(best - np.log10(tested), 0.0)


def pairwise(series, source, target):
    smallest, tested = 1.0, 0
    for f in range(FEATURES):
        for g in range(FEATURES):
            data = np.column_stack([series[:, target, f], series[:, source, g]])
            if np.std(data[:, 0]) == 0 or np.std(data[:, 1]) == 0:
                continue
            try:
                result = grangercausalitytests(data, maxlag=1)
            except InfeasibleTestError:  # the target's own past predicts it exactly
                continue
            smallest, tested = min(smallest, result[1][0]["ssr_ftest"][1]), tested + 1
    return neg_log10(min(1.0, smallest * max(tested, 1)))


def var_tests(series):
    t, n, _ = series.shape
    flat = series.reshape(t, n * FEATURES)
    # statsmodels refuses constant columns (a free particle's velocity between bounces).
    kept = [c for c in range(flat.shape[1]) if np.ptp(flat[:, c]) > 0]
    column = {c: i for i, c in enumerate(kept)}
    fitted = VAR(flat[:, kept]).fit(1)
    out = {}
    for target in range(n):
        for source in range(n):
            if source == target:
                continue
            caused = [column[c] for c in range(target * FEATURES, (target + 1) * FEATURES) if c in column]
            causing = [column[c] for c in range(source * FEATURES, (source + 1) * FEATURES) if c in column]
            if not caused or not causing:
                out[(source, target)] = 0.0
                continue
            test = fitted.test_causality(caused, causing, kind="f")
            out[(source, target)] = neg_log10(test.pvalue)
    return out


def auroc(scores, labels):
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    ranks = stats.rankdata(np.nan_to_num(scores, posinf=1e308))
    pos, neg = labels.sum(), (~labels).sum()
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def main():
    # A particle no spring pulls moves at constant velocity: its vx, vy columns repeat the
    # intercept, and statsmodels warns of the (harmless) rank deficiency on every such fit.
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default="target/release/inference-lab")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        series_csv, truth_csv, edges_csv = (os.path.join(tmp, n) for n in ("s.csv", "t.csv", "e.csv"))
        run = [args.bin, "--backend", "cpu", "--seed", str(args.seed), "causal"]
        subprocess.run(
            run + ["simulate", "--samples", str(args.samples), "--noise", str(args.noise),
                   "--out", series_csv, "--truth", truth_csv],
            check=True, capture_output=True,
        )
        started = time.time()
        subprocess.run(
            run + ["infer", "--input", series_csv, "--method", "granger", "--out", edges_csv],
            check=True, capture_output=True,
        )
        ours_seconds = time.time() - started
        samples = read_series(series_csv)
        truth = read_edges(truth_csv, "probability")
        ours_p = read_edges(edges_csv, "probability")

    keys = sorted(truth)
    labels = [truth[k] > 0.5 for k in keys]
    # Our probability is s/(1+s): s = p/(1−p) recovers −log10 p.
    ours = [ours_p[k] / (1.0 - ours_p[k]) if ours_p[k] < 1.0 else np.inf for k in keys]
    started = time.time()
    rep = [replica(samples[s], src, tgt) for (s, src, tgt) in keys]
    rep_seconds = time.time() - started
    started = time.time()
    pair = [pairwise(samples[s], src, tgt) for (s, src, tgt) in keys]
    pair_seconds = time.time() - started
    started = time.time()
    var_by_sample = {s: var_tests(x) for s, x in samples.items()}
    var = [var_by_sample[s][(src, tgt)] for (s, src, tgt) in keys]
    var_seconds = time.time() - started

    rep_scores = [0.0 if r is None else r for r in rep]
    both = [(a, b) for a, b in zip(ours, rep_scores) if np.isfinite(a) and np.isfinite(b)]

    def largest_difference(limit):
        # Above s ≈ 150 the unrestricted fit's residual is at rounding level (noiseless
        # springs), so two correct least-squares solvers agree only on the order of magnitude.
        d = [abs(a - b) / max(1.0, b) for a, b in both if max(a, b) < limit]
        return {"pairs": len(d), "max_relative_difference": max(d) if d else None}

    report = {
        "samples": args.samples,
        "noise": args.noise,
        "pairs": len(keys),
        "replica_neg_log10_p": {
            "below_30": largest_difference(30.0),
            "below_100": largest_difference(100.0),
            "all": largest_difference(np.inf),
            "spearman": float(stats.spearmanr([a for a, _ in both], [b for _, b in both])[0]),
        },
        "auroc": {
            "ours": auroc(ours, labels),
            "numpy_scipy_replica": auroc(rep_scores, labels),
            "statsmodels_pairwise_grangercausalitytests": auroc(pair, labels),
            "statsmodels_var_test_causality": auroc(var, labels),
        },
        "pairs_whose_p_underflows_to_0": {
            "pairwise": int(sum(np.isinf(pair))),
            "var": int(sum(np.isinf(var))),
        },
        "seconds": {
            "ours_whole_call": ours_seconds,
            "replica": rep_seconds,
            "pairwise": pair_seconds,
            "var": var_seconds,
        },
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
