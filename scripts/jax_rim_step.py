#!/usr/bin/env python3
"""The MRI RIM's training step in JAX/XLA, to compare burn's speed with (issue 14).

The same network as src/demos/mri/model.rs (`Rim`, one layer): features conv3 2->C, conv-GRU
(gates conv1 2C->2C, candidate conv3 dilated 2 2C->C), out_hidden conv3 C->C, out_step conv3
C->1; the data-term gradient A^H(A x - y) by the centred orthonormal DFT as matrix products;
T steps from a given start; loss = sum over steps of mean over the batch of log(MSE + 1e-8);
Adam with the gradient clipped to global norm 1. Random data (speed only).

    pip install "jax[cpu]"
    python3 scripts/jax_rim_step.py [--side 64] [--batch 4] [--channels 24] [--steps 8]

Prints one JSON line: the median seconds per training step over the timed repeats.
Pin the threads as burn's run is pinned (e.g. `taskset -c 0,1`) to compare like with like.
"""
import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np


def conv(x, w, b, dilation=1):
    # x: NHWC, w: HWIO; 'same' padding as the Rust model's explicit padding.
    k = w.shape[0]
    pad = dilation * (k // 2)
    y = jax.lax.conv_general_dilated(
        x, w, window_strides=(1, 1), padding=((pad, pad), (pad, pad)),
        rhs_dilation=(dilation, dilation), dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y + b


def init(key, c):
    def layer(key, k, i, o, zero=False):
        std = 0.0 if zero else np.sqrt(2.0) * np.sqrt(2.0 / (k * k * i))
        return (jax.random.normal(key, (k, k, i, o)) * std, jnp.zeros((o,)))
    keys = jax.random.split(key, 5)
    return {
        "features": layer(keys[0], 3, 2, c),
        "gates": layer(keys[1], 1, 2 * c, 2 * c),
        "candidate": layer(keys[2], 3, 2 * c, c),
        "out_hidden": layer(keys[3], 3, c, c),
        "out_step": layer(keys[4], 3, c, 1, zero=True),
    }


def dft(n):
    c = n // 2
    k = np.arange(n) - c
    w = np.exp(-2j * np.pi * np.outer(k, k) / n) / np.sqrt(n)
    return jnp.asarray(w.real, jnp.float32), jnp.asarray(w.imag, jnp.float32)


def data_gradient(x, yr, yi, mask, wr, wi):
    # x: [b, n, n]; F x = W x W (W symmetric), F^H k = conj(W) k conj(W); real part kept.
    ar, ai = x @ wr, x @ wi
    kr = wr @ ar - wi @ ai
    ki = wr @ ai + wi @ ar
    rr, ri = (kr - yr) * mask, (ki - yi) * mask
    br = rr @ wr + ri @ wi
    bi = ri @ wr - rr @ wi
    return wr @ br + wi @ bi


def forward(params, start, yr, yi, mask, wr, wi, steps):
    x = start
    b, n, _ = x.shape
    c = params["features"][0].shape[-1]
    state = jnp.zeros((b, n, n, c))
    outputs = []
    for _ in range(steps):
        g = data_gradient(x, yr, yi, mask, wr, wi)
        feats = jax.nn.relu(conv(jnp.stack([x, g], -1), *params["features"]))
        gates = jax.nn.sigmoid(conv(jnp.concatenate([feats, state], -1), *params["gates"]))
        update, reset = gates[..., :c], gates[..., c:]
        fresh = jnp.tanh(conv(jnp.concatenate([feats, reset * state], -1), *params["candidate"], 2))
        state = state + update * (fresh - state)
        step = conv(jax.nn.relu(conv(state, *params["out_hidden"])), *params["out_step"])
        x = x + step[..., 0]
        outputs.append(x)
    return outputs


def loss_fn(params, start, yr, yi, mask, truth, wr, wi, steps):
    outs = forward(params, start, yr, yi, mask, wr, wi, steps)
    return sum(jnp.mean(jnp.log(jnp.mean((o - truth) ** 2, axis=(1, 2)) + 1e-8)) for o in outs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--side", type=int, default=64)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--channels", type=int, default=24)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--repeats", type=int, default=20)
    a = p.parse_args()
    n, b = a.side, a.batch
    rng = np.random.default_rng(0)
    truth = jnp.asarray(rng.random((b, n, n)), jnp.float32)
    start = truth + 0.05 * jnp.asarray(rng.standard_normal((b, n, n)), jnp.float32)
    mask = jnp.asarray(rng.random((b, n, n)) < 0.3, jnp.float32)
    yr = jnp.asarray(rng.standard_normal((b, n, n)), jnp.float32) * mask
    yi = jnp.asarray(rng.standard_normal((b, n, n)), jnp.float32) * mask
    wr, wi = dft(n)
    params = init(jax.random.PRNGKey(0), a.channels)
    opt = {"m": jax.tree.map(jnp.zeros_like, params), "v": jax.tree.map(jnp.zeros_like, params),
           "t": jnp.zeros(())}

    @jax.jit
    def train_step(params, opt):
        loss, grads = jax.value_and_grad(loss_fn)(params, start, yr, yi, mask, truth, wr, wi, a.steps)
        norm = jnp.sqrt(sum(jnp.sum(g ** 2) for g in jax.tree.leaves(grads)))
        grads = jax.tree.map(lambda g: g * jnp.minimum(1.0, 1.0 / (norm + 1e-12)), grads)
        t = opt["t"] + 1
        m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, opt["m"], grads)
        v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, opt["v"], grads)
        lr = 5e-4 * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        params = jax.tree.map(lambda p, m, v: p - lr * m / (jnp.sqrt(v) + 1e-5), params, m, v)
        return params, {"m": m, "v": v, "t": t}, loss

    params, opt, loss = train_step(params, opt)
    loss.block_until_ready()
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        params, opt, loss = train_step(params, opt)
        loss.block_until_ready()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({"framework": f"jax {jax.__version__}", "device": str(jax.devices()[0]),
                      "side": n, "batch": b, "channels": a.channels, "steps": a.steps,
                      "median_step_s": times[len(times) // 2],
                      "samples_per_s": b / times[len(times) // 2]}))


if __name__ == "__main__":
    main()
