#!/usr/bin/env bash
# Runs every fuzz target of tests/fuzz.rs for SECONDS each (default 600), all at once, and
# prints how many inputs each ran. A failure prints the input (shrunk by proptest): keep it in
# tests/fuzz-corpus/TARGET/ so that every later run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/inference-lab/target}"
FUZZ_SECONDS="${1:-600}" cargo test --release --locked --test fuzz -- --nocapture --test-threads=8 2>&1 \
  | grep -E "^fuzz |^test |panicked|test result"
