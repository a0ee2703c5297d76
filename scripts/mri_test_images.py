#!/usr/bin/env python3
"""Writes the 14 held-out MRI test images that `bench --demo mri --images DIR` is judged on:
scikit-image's test photographs (astronaut, brick, camera, cat, clock, coins, grass, gravel, horse,
moon, page, text), its Shepp–Logan phantom, and an EPI slice of nibabel's test data
(`example4d.nii.gz`, the middle slice of the first volume). Colour is converted to luminance,
each image cropped to its centred square, scaled to [0, 1] (the MR slice by its maximum) and
written as an 8-bit grayscale PNG at its own size; the benchmark resizes them. None of them is in
the training folder (`../shared/mri-train/train400/`, from the Berkeley Segmentation Dataset).
Never train or tune on them.

    pip install scikit-image nibabel
    python3 scripts/mri_test_images.py /tmp/mri-test
    inference-lab --backend cpu bench --demo mri --images /tmp/mri-test --out docs/mri-bench.json
"""
import os
import sys

import nibabel
import numpy as np
import skimage.data
from nibabel.testing import data_path
from skimage import io
from skimage.color import rgb2gray

PHOTOS = ["astronaut", "brick", "camera", "cat", "clock", "coins", "grass", "gravel", "horse",
          "moon", "page", "text", "shepp_logan_phantom"]


def square(x):
    h, w = x.shape
    s = min(h, w)
    return x[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]


def unit(x):
    x = np.asarray(x, dtype=np.float64)
    if x.dtype == bool or x.max() <= 1.0:
        return np.clip(x, 0.0, 1.0)
    return np.clip(x / 255.0, 0.0, 1.0)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "mri-test"
    os.makedirs(out, exist_ok=True)
    for name in PHOTOS:
        x = getattr(skimage.data, name)()
        if x.ndim == 3:
            x = rgb2gray(x[..., :3])  # already in [0, 1]
        else:
            x = unit(x.astype(np.float64) if x.dtype != bool else x)
        x = square(np.asarray(x, dtype=np.float64))
        io.imsave(os.path.join(out, f"{name}.png"), np.round(x * 255).astype(np.uint8),
                  check_contrast=False)
    volume = nibabel.load(os.path.join(data_path, "example4d.nii.gz")).get_fdata()
    mr = volume[:, :, volume.shape[2] // 2, 0]
    mr = square(np.rot90(mr) / mr.max())
    io.imsave(os.path.join(out, "mr_epi.png"), np.round(mr * 255).astype(np.uint8),
              check_contrast=False)
    print(f"wrote {len(PHOTOS) + 1} images to {out}")


if __name__ == "__main__":
    main()
