#!/usr/bin/env python3
"""Checks `vae infer` from outside, with NumPy only: rebuilds the decoder from
`vae export-decoder`'s arrays, computes log p(x) and the exact posterior's mean by quadrature on
its own grid, and each q's ELBO by Monte Carlo, and compares them with q.csv's columns.

    inference-lab vae export-decoder --out /tmp/decoder.npz
    inference-lab vae infer --images X.csv --method svi --out /tmp/q.csv
    python3 scripts/vae_check.py /tmp/decoder.npz X.csv /tmp/q.csv

Prints the mean and largest |Δ log p(x)|, |Δ ELBO| (Monte Carlo, 20,000 draws: expect ~0.05)
and whether every ELBO ≤ log p(x). Exits 1 when log p(x) differs by more than 0.05 nats.
"""
import sys

import numpy as np

ACTIVATIONS = {
    "relu": lambda h: np.maximum(h, 0),
    "tanh": np.tanh,
    "elu": lambda h: np.where(h > 0, h, np.expm1(h)),
    "softplus": lambda h: np.logaddexp(0, h),
    "leaky_relu": lambda h: np.where(h > 0, h, 0.01 * h),
    "sigmoid": lambda h: 1 / (1 + np.exp(-h)),
}


def decoder(npz):
    d = np.load(npz)
    layers = len([k for k in d.files if k.startswith("W")])
    weights = [(d[f"W{i}"].astype(np.float64), d[f"b{i}"].astype(np.float64)) for i in range(layers)]
    acts = [ACTIVATIONS[str(a)] for a in d["activations"]]

    def logits(z):
        h = z
        for i, (w, b) in enumerate(weights):
            h = h @ w + b
            if i < len(acts):
                h = acts[i](h)
        return h

    return logits, int(d["latent"])


def log_lik(x, logits):
    # x: (784,), logits: (G, 784) -> (G,)
    return logits @ x - np.logaddexp(0, logits).sum(axis=1)


def main():
    npz, images_csv, q_csv = sys.argv[1:4]
    logits, latent = decoder(npz)
    assert latent == 2, "the quadrature check needs the 2-D latent"
    x = (np.loadtxt(images_csv, delimiter=",", ndmin=2) >= 0.5).astype(np.float64)
    q = np.genfromtxt(q_csv, delimiter=",", names=True)
    # Our own grid: wider than the app's [-6, 6]^2 and finer than its 0.03.
    h = 0.02
    axis = np.arange(-6.5, 6.5 + h / 2, h)
    z1, z2 = np.meshgrid(axis, axis)
    grid = np.stack([z1.ravel(), z2.ravel()], axis=1)
    log_prior = -0.5 * (grid ** 2).sum(axis=1) - np.log(2 * np.pi)
    chunks = [grid[i:i + 20000] for i in range(0, len(grid), 20000)]
    # log p(x|z) on the grid for every image, a chunk of points at a time.
    joint_all = np.concatenate(
        [np.stack([log_lik(xn, lg) for xn in x], axis=0) for lg in map(logits, chunks)], axis=1
    ) + log_prior
    rng = np.random.default_rng(0)
    d_log_px, d_elbo, above = [], [], 0
    for n in range(len(x)):
        joint = joint_all[n]
        m = joint.max()
        log_px = m + np.log(np.exp(joint - m).sum()) + 2 * np.log(h)
        d_log_px.append(abs(log_px - q["log_px"][n]))
        mu = np.array([q["mu_1"][n], q["mu_2"][n]])
        sigma = np.exp([q["log_sigma_1"][n], q["log_sigma_2"][n]])
        z = mu + sigma * rng.standard_normal((20000, 2))
        kl = 0.5 * (mu ** 2 + sigma ** 2 - 1 - 2 * np.log(sigma)).sum()
        elbo = log_lik(x[n], logits(z)).mean() - kl
        d_elbo.append(abs(elbo - q["elbo"][n]))
        above += q["elbo"][n] > log_px + 1e-3
    d_log_px, d_elbo = np.array(d_log_px), np.array(d_elbo)
    print(f"{len(x)} images: |Δ log p(x)| mean {d_log_px.mean():.4f} max {d_log_px.max():.4f} nats; "
          f"|Δ ELBO| (Monte Carlo) mean {d_elbo.mean():.4f} max {d_elbo.max():.4f}; "
          f"ELBO above log p(x): {above}")
    sys.exit(0 if d_log_px.max() < 0.05 and above == 0 else 1)


if __name__ == "__main__":
    main()
