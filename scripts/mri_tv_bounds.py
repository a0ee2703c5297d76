#!/usr/bin/env python3
"""How far can a better-weighted TV go? Upper bounds on held-out images, from outside.

For every 8- or 16-bit grayscale PNG in a folder (already N×N): `inference-lab mri simulate`
measures it (mask seed 0); an independent TV (isotropic, real image boxed to [0, 1], solved to
convergence by Chambolle–Pock in numpy, the same problem as ours: ½‖M F x − y‖² + λ TV(x)) runs
for every λ of a grid, and the script prints, per image and on average, the PSNR of
- TV at the λ given (ours, tuned on validation phantoms),
- TV at the best single λ for the whole folder (an oracle: tuned on these very images),
- TV at the best λ for each image (oracle),
- TV with the best λ for each 8×8 block (an oracle λ map: what a perfect spatially adaptive TV
  weight could reach),
- the best of the λ grid for each pixel (an oracle that also fits noise; a loose bound).
A learned correction of TV that only adapts its weight cannot exceed the block oracle.

usage: mri_tv_bounds.py BINARY IMAGE_DIR [--accel 4] [--lam 0.002] [--iterations 2000]
"""
import argparse, glob, os, subprocess, tempfile

import numpy as np
from PIL import Image

p = argparse.ArgumentParser()
p.add_argument("binary")
p.add_argument("images")
p.add_argument("--accel", default="4")
p.add_argument("--lam", type=float, default=0.002)
p.add_argument("--iterations", type=int, default=2000)
args = p.parse_args()
GRID = sorted({0.0, 0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.008, 0.015, 0.03, args.lam})


def fft(x):
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x), norm="ortho"))


def ifft(k):
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k), norm="ortho"))


def grad(x):
    gx, gy = np.zeros_like(x), np.zeros_like(x)
    gx[:, :-1] = x[:, 1:] - x[:, :-1]
    gy[:-1, :] = x[1:, :] - x[:-1, :]
    return gx, gy


def grad_adjoint(px, py):
    d = np.zeros_like(px)
    d[:, :-1] -= px[:, :-1]
    d[:, 1:] += px[:, :-1]
    d[:-1, :] -= py[:-1, :]
    d[1:, :] += py[:-1, :]
    return d


def tv(y, mask, lam, iterations):
    """Chambolle–Pock on min_{x real in [0,1]} ½‖M F x − y‖² + λ‖∇x‖_{2,1}."""
    x = np.clip(ifft(mask * y).real, 0, 1)
    xbar, px, py, q = x.copy(), np.zeros_like(x), np.zeros_like(x), np.zeros_like(y)
    step = 1 / np.sqrt(9.0)  # ‖[∇; M F]‖² ≤ 8 + 1
    for _ in range(iterations):
        gx, gy = grad(xbar)
        px, py = px + step * gx, py + step * gy
        if lam > 0:
            norm = np.maximum(1, np.hypot(px, py) / lam)
            px, py = px / norm, py / norm
        else:
            px, py = 0 * px, 0 * py
        q = mask * (q + step * (mask * fft(xbar) - y)) / (1 + step)
        new = np.clip(x - step * (grad_adjoint(px, py) + ifft(q).real), 0, 1)
        xbar, x = 2 * new - x, new
    return x


def psnr_of(sq_error):
    return 10 * np.log10(1 / sq_error.mean())


work = tempfile.mkdtemp()
rows, errors = [], []
for path in sorted(glob.glob(os.path.join(args.images, "*.png"))):
    k, m = os.path.join(work, "y.npy"), os.path.join(work, "m.png")
    subprocess.run([args.binary, "--seed", "0", "mri", "simulate", "--image", path, "--accel",
                    args.accel, "--out-kspace", k, "--out-mask", m], check=True, capture_output=True)
    picture = Image.open(path)
    truth = np.asarray(picture, dtype=float) / (65535 if picture.mode.startswith("I") else 255)
    y, mask = np.load(k), (np.asarray(Image.open(m)) > 127).astype(float)
    err = np.stack([(tv(y, mask, lam, args.iterations) - truth) ** 2 for lam in GRID])
    n = truth.shape[0] // 8
    blocks = err.reshape(len(GRID), n, 8, n, 8).sum((2, 4))
    row = [psnr_of(err[GRID.index(args.lam)]), max(psnr_of(e) for e in err),
           10 * np.log10(truth.size / blocks.min(0).sum()), psnr_of(err.min(0))]
    rows.append(row)
    errors.append([psnr_of(e) for e in err])
    print(f"{os.path.basename(path):18} TV(λ {args.lam}) {row[0]:.2f}  per-image λ {row[1]:.2f}  "
          f"8×8-block λ {row[2]:.2f}  per-pixel {row[3]:.2f}", flush=True)
mean = np.mean(rows, axis=0)
best_single = np.mean(errors, axis=0)
print(f"MEAN TV(λ {args.lam}) {mean[0]:.2f}  best single λ {best_single.max():.2f} "
      f"(λ {GRID[int(best_single.argmax())]})  per-image λ {mean[1]:.2f}  "
      f"8×8-block λ {mean[2]:.2f}  per-pixel {mean[3]:.2f}")
