#!/usr/bin/env python3
"""BP of `inference-lab ldpc decode` against an independent implementation, on the same LLRs.

The frames are made here with numpy (a generator from this script's own GF(2) elimination of the
alist's H, random messages, BPSK over AWGN, LLR = 2y/sigma^2), written as the LLR CSV the command
line reads, decoded by `inference-lab ldpc decode --method bp|minsum --iters 20` and by the `ldpc`
package's C++ BpDecoder (product_sum / minimum_sum with scaling 1, parallel = flooding schedule,
max_iter 20) as syndrome decoding: z = hard decision, s = Hz, error probabilities
1/(1+exp|L|), codeword = z xor the decoded error, which is the same BP on the same LLRs.
Prints BERs with frame-clustered 95% intervals, how many frames the two decoders decode
differently, and both decoders' frames per second on one thread.

    pip install ldpc numpy
    python3 scripts/ldpc_reference.py --bin target/release/inference-lab --frames 20000
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
from ldpc import BpDecoder


def read_alist(path):
    tokens = [line.split() for line in open(path) if line.strip()]
    n, m = map(int, tokens[0])
    H = np.zeros((m, n), dtype=np.uint8)
    for j in range(n):
        for entry in map(int, tokens[4 + j]):
            if entry:
                H[entry - 1, j] = 1
    return H


def generator(H):
    """Rows spanning the null space of H over GF(2)."""
    A = H.copy() % 2
    m, n = A.shape
    pivots, r = [], 0
    for c in range(n):
        rows = np.nonzero(A[r:, c])[0]
        if len(rows) == 0:
            continue
        p = r + rows[0]
        A[[r, p]] = A[[p, r]]
        for i in range(m):
            if i != r and A[i, c]:
                A[i] ^= A[r]
        pivots.append(c)
        r += 1
        if r == m:
            break
    free = [c for c in range(n) if c not in pivots]
    G = np.zeros((len(free), n), dtype=np.uint8)
    for k, f in enumerate(free):
        G[k, f] = 1
        for i, p in enumerate(pivots):
            G[k, p] = A[i, f]
    assert not ((H @ G.T) % 2).any()
    return G


def frames(H, G, ebn0_db, count, rng):
    m, n = H.shape
    rate = 1 - m / n
    sigma2 = 1 / (2 * rate * 10 ** (ebn0_db / 10))
    u = rng.integers(0, 2, size=(count, G.shape[0]), dtype=np.uint8)
    x = (u.astype(np.int64) @ G) % 2
    y = 1 - 2 * x + np.sqrt(sigma2) * rng.standard_normal(x.shape)
    return x.astype(np.uint8), (2 * y / sigma2).astype(np.float32)


def ours(binary, code, llr, method, tmp):
    llr_path = os.path.join(tmp, "llr.csv")
    out_path = os.path.join(tmp, "bits.csv")
    np.savetxt(llr_path, llr, delimiter=",", fmt="%.9g")
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    result = subprocess.run(
        [binary, "--backend", "cpu", "ldpc", "decode", "--code", code, "--llr", llr_path,
         "--method", method, "--iters", "20", "--out", out_path, "--json"],
        check=True, capture_output=True, text=True, env=env)
    seconds = json.loads(result.stdout)["metrics"]["seconds"]
    return np.loadtxt(out_path, delimiter=",", dtype=np.uint8, ndmin=2), seconds


def reference(H, llr, method):
    decoder = BpDecoder(H, error_rate=0.1, max_iter=20, ms_scaling_factor=1.0,
                        bp_method="product_sum" if method == "bp" else "minimum_sum",
                        schedule="parallel", omp_thread_count=1)
    out = np.empty(llr.shape, dtype=np.uint8)
    hard = (llr < 0).astype(np.uint8)
    probs = 1.0 / (1.0 + np.exp(np.minimum(np.abs(llr.astype(np.float64)), 700)))
    syndromes = (hard.astype(np.int64) @ H.T.astype(np.int64)) % 2
    started = time.perf_counter()
    for i in range(llr.shape[0]):
        decoder.update_channel_probs(probs[i])
        error = decoder.decode(syndromes[i].astype(np.uint8))
        out[i] = hard[i] ^ error
    return out, time.perf_counter() - started


def ber_interval(decoded, sent):
    rates = (decoded != sent).mean(axis=1)
    mean = rates.mean()
    half = 1.96 * rates.std(ddof=1) / np.sqrt(len(rates))
    return mean, max(mean - half, 0), mean + half


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/inference-lab")
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--speed-frames", type=int, default=5000)
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args()
    rng = np.random.default_rng(20261202)
    results = {"ber": [], "speed": []}
    with tempfile.TemporaryDirectory() as tmp:
        code = "assets/ldpc/96.3.963.alist"
        H = read_alist(code)
        G = generator(H)
        for method in ["bp", "minsum"]:
            for ebn0 in [1.0, 2.0, 3.0, 4.0]:
                sent, llr = frames(H, G, ebn0, args.frames, rng)
                mine, _ = ours(args.bin, code, llr, method, tmp)
                ref, _ = reference(H, llr, method)
                a, b = ber_interval(mine, sent), ber_interval(ref, sent)
                differ = int((mine != ref).any(axis=1).sum())
                row = {"code": "96.3.963", "method": method, "eb_n0_db": ebn0, "frames": args.frames,
                       "ours": a, "ldpc": b, "frames_decoded_differently": differ}
                results["ber"].append(row)
                print(f"96.3.963 {method:6} {ebn0:.1f} dB  ours {a[0]:.3e} [{a[1]:.3e}, {a[2]:.3e}]"
                      f"  ldpc {b[0]:.3e} [{b[1]:.3e}, {b[2]:.3e}]  frames differing {differ}")
        code = "assets/ldpc/wimax-576-288.alist"
        H = read_alist(code)
        G = generator(H)
        sent, llr = frames(H, G, 2.0, args.speed_frames, rng)
        mine, t_mine = ours(args.bin, code, llr, "bp", tmp)
        ref, t_ref = reference(H, llr, "bp")
        row = {"code": "wimax-576-288", "eb_n0_db": 2.0, "frames": args.speed_frames,
               "ours_frames_per_second": args.speed_frames / t_mine,
               "ldpc_frames_per_second": args.speed_frames / t_ref,
               "ours_ber": ber_interval(mine, sent)[0], "ldpc_ber": ber_interval(ref, sent)[0],
               "frames_decoded_differently": int((mine != ref).any(axis=1).sum())}
        results["speed"].append(row)
        print(f"wimax 2 dB BP, one thread: ours {row['ours_frames_per_second']:.0f} frames/s, "
              f"ldpc {row['ldpc_frames_per_second']:.0f} frames/s (ratio {t_mine / t_ref:.2f}); "
              f"BER {row['ours_ber']:.3e} vs {row['ldpc_ber']:.3e}")
    if args.out:
        json.dump(results, open(args.out, "w"), indent=2)


if __name__ == "__main__":
    main()
