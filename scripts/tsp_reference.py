#!/usr/bin/env python3
"""Optimal-length references for `bench --demo tsp` from an independent solver: LKH-3 (through the
`elkai` package) on the random instances the benchmark wrote to target/tsp-bench/random-N.json.

Distances are scaled by 1e6 and rounded to integers for LKH (its costs are integers); each
returned tour's length is then computed here in exact Euclidean distance. LKH does not prove
optimality, but on 50 and 100 uniform cities with 10 runs its tours are the optimum in all but
rare cases (Kool et al. and POMO report gaps to Concorde and LKH alike).

    pip install elkai numpy
    inference-lab --backend cpu bench --demo tsp        # writes the instances (and a first table)
    python3 scripts/tsp_reference.py --n 20 50 100      # writes docs/tsp-lkh-N.json (20: a check of Held–Karp)
    inference-lab --backend cpu bench --demo tsp        # gaps to LKH's tours now
"""
import argparse
import json
import time

import elkai
import numpy as np


def solve(coords, runs):
    xy = np.asarray(coords, dtype=np.float64)
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    tour = elkai.DistanceMatrix(np.rint(d * 1e6).astype(np.int64).tolist()).solve_tsp(runs=runs)
    tour = tour[:-1]
    assert sorted(tour) == list(range(len(xy))), "LKH returned no permutation"
    return float(sum(d[tour[k], tour[(k + 1) % len(tour)]] for k in range(len(tour))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    for n in args.n:
        data = json.load(open(f"target/tsp-bench/random-{n}.json"))
        started = time.time()
        lengths = [solve(c, args.runs) for c in data["coords"]]
        out = {
            "n": n,
            "solver": f"LKH-3 (elkai {getattr(elkai, '__version__', '2')}, {args.runs} runs)",
            "first": [c[0] for c in data["coords"]],
            "lengths": lengths,
            "seconds": time.time() - started,
        }
        json.dump(out, open(f"docs/tsp-lkh-{n}.json", "w"))
        print(f"n {n}: {len(lengths)} instances, mean {np.mean(lengths):.4f}, {out['seconds']:.0f} s")


if __name__ == "__main__":
    main()
