#!/usr/bin/env python3
"""Checks `flows` from outside: draws points with the app, then fits scikit-learn's
`GaussianMixture` (K = 8, full covariances, best of 3 starts) and compares its test
log-likelihood with `flows eval --method gmm`; also recomputes the true density's mean
log-likelihood of the eight Gaussians and checkerboard test points in NumPy.

EM's optimum depends on its random starts (on the rings, best-of-3 results spread over 0.1
nats by seed), so each side is run with 21 seeds and their medians are compared.

    python3 -m venv /tmp/sk && /tmp/sk/bin/pip install scikit-learn
    /tmp/sk/bin/python scripts/flows_check.py path/to/inference-lab

Exits 1 when the app's GMM is more than 0.05 nats from scikit-learn's on any data set.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.mixture import GaussianMixture

DATASETS = ["checkerboard", "corners", "eightgaussians", "fourcircles", "moons", "rings"]
SEEDS = range(21)


def run(binary, *args):
    out = subprocess.run([binary, "--backend", "cpu", *args], check=True, capture_output=True, text=True)
    return out.stdout


def points(path):
    return np.loadtxt(path, delimiter=",", skiprows=1)


def eight_gaussians_logp(x):
    angles = np.pi / 8 + np.arange(8) * np.pi / 4
    centres = 4 / 1.414 * np.stack([np.cos(angles), np.sin(angles)], 1)
    s2 = (0.5 / 1.414) ** 2
    d2 = ((x[:, None, :] - centres[None]) ** 2).sum(-1)
    logs = -d2 / (2 * s2) - np.log(2 * np.pi * s2)
    top = logs.max(1, keepdims=True)
    return (top[:, 0] + np.log(np.exp(logs - top).mean(1)))


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "inference-lab"
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name in DATASETS:
            train, test = Path(tmp) / f"{name}-train.csv", Path(tmp) / f"{name}-test.csv"
            run(binary, "--seed", "101", "flows", "sample", "--dataset", name, "--n", "10000", "--out", str(train))
            run(binary, "--seed", "202", "flows", "sample", "--dataset", name, "--n", "10000", "--out", str(test))
            app = np.median([
                json.loads(run(binary, "--seed", str(seed), "flows", "eval", "--train", str(train),
                               "--test", str(test), "--method", "gmm", "--json"))["metrics"]["nats"]
                for seed in SEEDS
            ])
            sk = np.median([
                GaussianMixture(n_components=8, covariance_type="full", n_init=3, random_state=seed)
                .fit(points(train)).score(points(test))
                for seed in SEEDS
            ])
            gap = app - sk
            line = f"{name:<16} medians: app {app:8.4f}  scikit-learn {sk:8.4f}  difference {gap:+.4f}"
            if name == "eightgaussians":
                line += f"  true {eight_gaussians_logp(points(test)).mean():8.4f}"
            if name == "checkerboard":
                line += f"  true {-np.log(32):8.4f}"
            print(line)
            failed |= abs(gap) > 0.05
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
