#!/usr/bin/env python3
"""Checks `mimo` from outside: simulates with the app, then detects with scikit-commpy's
brute-force `mimo_ml` and a NumPy LMMSE written here, and compares with `mimo detect`.

    python3 -m venv /tmp/cp && /tmp/cp/bin/pip install scikit-commpy
    /tmp/cp/bin/python scripts/mimo_check.py path/to/inference-lab

For 4×4 QPSK and 4×4 16-QAM (200 vectors each, at 8 and 14 dB): the sphere decoder's decisions
must equal commpy's on every vector; LMMSE's must equal NumPy's; and the SNR must hold
(E‖Hx‖² / E‖y − Hx‖² within 0.3 dB). Exits 1 on any disagreement.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from commpy.modulation import QAMModem, mimo_ml


def run(binary, *args):
    out = subprocess.run([binary, "--backend", "cpu", *args], check=True, capture_output=True, text=True)
    return out.stdout


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "inference-lab"
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for mod, order, snr in [("qpsk", 4, 8.0), ("16qam", 16, 14.0)]:
            h, y, x = tmp / "H.npy", tmp / "y.npy", tmp / "x.npy"
            run(binary, "mimo", "simulate", "--nt", "4", "--nr", "4", "--mod", mod, "--snr-db", str(snr),
                "--vectors", "200", "--out-channel", str(h), "--out-received", str(y), "--out-symbols", str(x))
            H, Y, X = np.load(h), np.load(y), np.load(x)
            signal = np.mean(np.abs(np.einsum("vrt,vt->vr", H, X)) ** 2) * 4
            noise = np.mean(np.abs(Y - np.einsum("vrt,vt->vr", H, X)) ** 2) * 4
            measured = 10 * np.log10(signal / noise)
            # commpy's constellation, scaled to unit average energy.
            points = QAMModem(order).constellation
            points = points / np.sqrt(np.mean(np.abs(points) ** 2))
            ml_out, mmse_out = tmp / "ml.npy", tmp / "mmse.npy"
            for method, out in [("ml", ml_out), ("mmse", mmse_out)]:
                run(binary, "mimo", "detect", "--channel", str(h), "--received", str(y), "--snr-db", str(snr),
                    "--mod", mod, "--method", method, "--out", str(out))
            app_ml, app_mmse = np.load(ml_out), np.load(mmse_out)
            sigma2 = 4 / (4 * 10 ** (snr / 10))
            ml_differ = mmse_differ = 0
            ser_ml = 0
            for v in range(H.shape[0]):
                ref = mimo_ml(Y[v], H[v], points)
                ml_differ += int(np.max(np.abs(ref - app_ml[v])) > 1e-4)
                ser_ml += int(np.sum(np.abs(ref - X[v]) > 1e-4))
                est = np.linalg.solve(H[v].conj().T @ H[v] + sigma2 * np.eye(4), H[v].conj().T @ Y[v])
                nearest = points[np.argmin(np.abs(est[:, None] - points[None, :]), axis=1)]
                mmse_differ += int(np.max(np.abs(nearest - app_mmse[v])) > 1e-4)
            print(json.dumps({"setting": f"4x4 {mod} {snr} dB", "snr_measured_db": round(float(measured), 3),
                              "ml_vectors_differing": ml_differ, "mmse_vectors_differing": mmse_differ,
                              "ml_ser": ser_ml / X.size, "vectors": int(H.shape[0])}))
            failed |= ml_differ > 0 or mmse_differ > 0 or abs(measured - snr) > 0.3
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
