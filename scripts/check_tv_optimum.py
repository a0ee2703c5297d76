#!/usr/bin/env python3
"""Is our TV reconstruction the optimum of its problem? Solves the same convex problem,
    min over real x in [0,1]:  ½‖M F x − y‖² + λ Σ ‖(∇x)_ij‖₂   (isotropic TV, forward differences,
    zero across the last row/column),
with cvxpy (an independent, generic solver) on the k-space `inference-lab mri simulate` made, and
compares the objective with that of `inference-lab mri reconstruct --method tv`'s output.

usage: check_tv_optimum.py BINARY IMAGE.png [--size 32] [--accel 4]
"""
import argparse, math, os, subprocess, tempfile

import cvxpy as cp
import numpy as np
from skimage import io, transform

p = argparse.ArgumentParser()
p.add_argument("binary")
p.add_argument("image")
p.add_argument("--size", type=int, default=32)
p.add_argument("--accel", type=int, default=4)
a = p.parse_args()
n, work = a.size, tempfile.mkdtemp()
img = io.imread(a.image) / 255.0
gt = os.path.join(work, "gt.png")
io.imsave(gt, (transform.resize(img, (n, n), anti_aliasing=True) * 65535).round().astype(np.uint16), check_contrast=False)
y_path, m_path, out = (os.path.join(work, f) for f in ("y.npy", "m.png", "tv.png"))
subprocess.run([a.binary, "--seed", "0", "mri", "simulate", "--image", gt, "--accel", str(a.accel),
                "--out-kspace", y_path, "--out-mask", m_path], check=True, capture_output=True)
subprocess.run([a.binary, "--backend", "cpu", "mri", "reconstruct", "--kspace", y_path, "--mask", m_path,
                "--method", "tv", "--out", out], check=True, capture_output=True)
y = np.load(y_path).astype(complex)
mask = io.imread(m_path) > 127
ours = io.imread(out) / 65535.0

# λ as TvSettings::tuned_for: log-interpolated between the tuned points by the mask's acceleration.
(a0, l0), (a1, l1) = (4.0, 0.003), (8.0, 0.004)
accel = mask.size / mask.sum()
s = min(max((math.log(accel) - math.log(a0)) / (math.log(a1) - math.log(a0)), 0.0), 1.0)
lam = math.exp(math.log(l0) + s * (math.log(l1) - math.log(l0)))

c = n // 2
k = np.arange(n)
W = np.exp(-2j * np.pi * np.outer(k - c, k - c) / n) / math.sqrt(n)
F = np.kron(W, W)[mask.flatten()]  # rows of the 2-D centred DFT (row-major vec) that are sampled
ys = y.flatten()[mask.flatten()]

def tv_np(x):
    dx = np.zeros_like(x); dx[:, :-1] = x[:, 1:] - x[:, :-1]
    dy = np.zeros_like(x); dy[:-1, :] = x[1:, :] - x[:-1, :]
    return np.sqrt(dx ** 2 + dy ** 2).sum()

def objective(x):
    r = F @ x.flatten() - ys
    return 0.5 * np.sum(np.abs(r) ** 2) + lam * tv_np(x)

x = cp.Variable((n, n))
dx = cp.hstack([x[:, 1:] - x[:, :-1], np.zeros((n, 1))])
dy = cp.vstack([x[1:, :] - x[:-1, :], np.zeros((1, n))])
tv = cp.sum(cp.norm(cp.vstack([cp.vec(dx, order="C"), cp.vec(dy, order="C")]), 2, axis=0))
v = cp.vec(x, order="C")
data = 0.5 * cp.sum_squares(F.real @ v - ys.real) + 0.5 * cp.sum_squares(F.imag @ v - ys.imag)
problem = cp.Problem(cp.Minimize(data + lam * tv), [x >= 0, x <= 1])
problem.solve()
print(f"{os.path.basename(a.image)} {n}² {a.accel}× (acceleration {accel:.2f}), λ {lam:.5f}")
print(f"objective: ours {objective(ours):.6f}   cvxpy ({problem.solver_stats.solver_name}) {objective(x.value):.6f}")
print(f"max |ours − cvxpy| per pixel {np.abs(ours - x.value).max():.4f}, RMS {np.sqrt(np.mean((ours - x.value) ** 2)):.5f}")
