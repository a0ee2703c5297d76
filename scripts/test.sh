#!/usr/bin/env bash
# The test command: installs what is missing, then formatting, lints and every test on the CPU
# backend. One profile (release) and one feature set for everything, so the stack builds once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/packages.sh
# Reuse one build folder outside the clone, so a fresh clone on the same machine is warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/inference-lab/target}"
# No window system is needed: kittest renders offscreen on lavapipe. Silence wgpu's XDG warning.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
start=$(date +%s)
cargo fmt --all -- --check
cargo clippy --release --all-targets --locked -- -D warnings
echo "fmt + clippy: $(( $(date +%s) - start )) s" >&2
# --all-targets: unit, integration and UI tests (there are no doc tests to run).
log=$(mktemp)
cargo test --release --locked --all-targets 2>&1 | tee "$log"
echo "total: $(( $(date +%s) - start )) s" >&2
# One closing line over every test binary (cargo prints a result per binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
