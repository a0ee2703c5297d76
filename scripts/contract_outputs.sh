#!/usr/bin/env bash
# Dumps every `--help` and the outputs of seeded runs of each demo's actions (JSON with its
# timing fields dropped) into OUT, so that two builds can be compared byte for byte:
#   bash scripts/contract_outputs.sh OLD_BINARY /tmp/old; bash scripts/contract_outputs.sh NEW_BINARY /tmp/new
#   diff -r /tmp/old /tmp/new
# Name both binaries `inference-lab` (clap prints the program's file name in its usage lines).
# The MRI runs read the first slice of ../shared/mri-train/brain-mr/ (a developer's checkout).
set -uo pipefail
BIN=$(realpath "$1"); OUT=$(realpath -m "$2")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=$(ls "$ROOT"/../shared/mri-train/brain-mr/*.png | head -1)
mkdir -p "$OUT/help" "$OUT/run"; cd "$OUT/run"
h() { local name=$1; shift; "$BIN" "$@" --help > "$OUT/help/$name.txt" 2>&1; }
h top; h bench bench
for demo in lorenz mri ldpc tsp causal vae mimo flows; do
  h "$demo" "$demo"
  for action in $("$BIN" "$demo" --help | awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}' | grep -v help); do
    h "$demo-$action" "$demo" "$action"
  done
done
strip() { python3 -c 'import json,sys
def s(o):
    if isinstance(o,dict): return {k:s(v) for k,v in o.items() if k not in ("seconds",)}
    if isinstance(o,list): return [s(v) for v in o]
    return o
for line in sys.stdin:
    line=line.strip()
    if not line: continue
    try: print(json.dumps(s(json.loads(line)),sort_keys=True))
    except ValueError: print(line)'; }
python3 -c 'import random
random.seed(5)
print("\n".join(",".join(f"{random.gauss(2.0,2.0):.4f}" for _ in range(96)) for _ in range(20)))' > llr.csv
run() { "$BIN" --backend cpu "$@" 2>/dev/null; }
run lorenz simulate --steps 300 --out traj.csv --out-obs obs.csv
for m in ekf eks uks gnn hybrid; do run lorenz infer --input obs.csv --method $m --out est-$m.csv --truth traj.csv --json | strip > lorenz-$m.json; done
run mri simulate --image "$IMAGE" --accel 4 --out-kspace y.npy --out-mask m.png
for m in zf tv unet rim rim-zf; do
  run mri reconstruct --image "$IMAGE" --accel 8 --method $m --out srec-$m.png --json | strip > mri-s-$m.json
  run mri reconstruct --kspace y.npy --mask m.png --method $m --out rec-$m.png --json | strip > mri-$m.json
done
for m in bp minsum nbp nebp; do
  run ldpc decode --code 96.3.963 --llr llr.csv --method $m --iters 10 --out bits-$m.csv
  run ldpc ber --code 96.3.963 --snr-db 1,3 --frames 200 --method $m --json | strip > ldpc-ber-$m.json
done
for m in nn insertion 2opt am am+2opt; do run tsp solve --instance eil51 --method $m --out tour-$m.tour --json | strip > tsp-$m.json; done
run causal simulate --samples 5 --out series.csv
for m in granger acd acd+tta; do run causal infer --input series.csv --method $m --out edges-$m.csv --json | strip > causal-$m.json; done
for demo in lorenz ldpc tsp causal mri; do run $demo eval --json | strip > eval-$demo.json; done
