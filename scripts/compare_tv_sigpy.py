#!/usr/bin/env python3
"""Checks the MRI demo from outside, through its command line only.

For every grayscale PNG in a folder, resized to N×N: `inference-lab mri simulate` measures it;
`inference-lab mri reconstruct --method M --truth` reconstructs and scores it. Then
- our PSNR/SSIM are recomputed by scikit-image on the PNG we wrote (data_range=1), and
- sigpy's TotalVariationRecon (anisotropic TV, PDHG, complex image, real part taken) runs on the
  same k-space and mask, with its λ chosen per image on the truth (an oracle: an upper bound on
  what sigpy's TV gets), to compare with our TV tuned on validation phantoms.

usage: compare_tv_sigpy.py BINARY IMAGE_DIR [--sizes 64,128] [--accels 4,8] [--methods zf,tv,unet,rim]
"""
import argparse, json, os, subprocess, sys, tempfile

import numpy as np
import sigpy.mri.app as app
from skimage import io, transform
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

p = argparse.ArgumentParser()
p.add_argument("binary")
p.add_argument("images")
p.add_argument("--sizes", default="64,128")
p.add_argument("--accels", default="4,8")
p.add_argument("--methods", default="zf,tv,unet,rim")
p.add_argument("--rim-model", help="a RIM model file instead of the shipped one")
p.add_argument("--sigpy-lambdas", default="0.0005,0.001,0.002,0.003,0.005,0.008")
args = p.parse_args()

work = tempfile.mkdtemp()
names = sorted(f for f in os.listdir(args.images) if f.endswith(".png"))
rows = []
for size in map(int, args.sizes.split(",")):
    for accel in map(int, args.accels.split(",")):
        for name in names:
            img = io.imread(os.path.join(args.images, name)).astype(float)
            img = img / (65535.0 if img.max() > 255 else 255.0)
            small = transform.resize(img, (size, size), anti_aliasing=True)
            gt_path = os.path.join(work, f"{size}_{name}")
            io.imsave(gt_path, (np.clip(small, 0, 1) * 65535).round().astype(np.uint16), check_contrast=False)
            gt = io.imread(gt_path) / 65535.0
            y, m = os.path.join(work, "y.npy"), os.path.join(work, "m.png")
            subprocess.run([args.binary, "--seed", "0", "mri", "simulate", "--image", gt_path,
                            "--accel", str(accel), "--out-kspace", y, "--out-mask", m],
                           check=True, capture_output=True)
            row = {"image": name, "size": size, "accel": accel}
            for method in args.methods.split(","):
                out = os.path.join(work, f"{method}.png")
                extra = ["--model", args.rim_model] if method == "rim" and args.rim_model else []
                r = subprocess.run([args.binary, "--backend", "cpu", "mri", "reconstruct", "--kspace", y,
                                    "--mask", m, "--method", method, "--truth", gt_path,
                                    "--out", out, "--json"] + extra, capture_output=True, text=True)
                if r.returncode != 0:
                    print(r.stderr, file=sys.stderr)
                    continue
                ours = json.loads(r.stdout)["metrics"]
                est = io.imread(out) / 65535.0
                row[method] = ours["psnr"]
                row[method + "_skimage_psnr"] = peak_signal_noise_ratio(gt, est, data_range=1.0)
                row[method + "_ssim"] = ours["ssim"]
                row[method + "_skimage_ssim"] = structural_similarity(gt, est, data_range=1.0)
            kspace = np.load(y)
            mask = (io.imread(m) > 127).astype(float)
            best = -1e9
            for lam in map(float, args.sigpy_lambdas.split(",")):
                x = app.TotalVariationRecon(kspace[None], np.ones((1, size, size), complex), lam,
                                            weights=mask[None], max_iter=300, show_pbar=False).run()
                best = max(best, peak_signal_noise_ratio(gt, np.clip(np.real(x), 0, 1), data_range=1.0))
            row["sigpy_tv_oracle"] = best
            rows.append(row)
            print(json.dumps(row), flush=True)

print("\nmean PSNR (dB) per size and acceleration:")
keys = [k for k in rows[0] if k not in ("image", "size", "accel")]
for size in map(int, args.sizes.split(",")):
    for accel in map(int, args.accels.split(",")):
        sel = [r for r in rows if r["size"] == size and r["accel"] == accel]
        means = {k: np.mean([r[k] for r in sel if k in r]) for k in keys}
        print(f"{size}² {accel}×: " + "  ".join(f"{k} {v:.3f}" for k, v in means.items()))
