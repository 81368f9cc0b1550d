#!/usr/bin/env bash
# Runs `ser bench` and the PyTorch peer alternately in fresh processes, ROUNDS times each, and prints the
# median of each side per shape with the ratio ours/theirs. Usage: benchmarks/peers/compare.sh [ROUNDS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}; threads=${2:-2}
dotnet build -c Release src/SpeechEmotion.Cli -v quiet -nologo >/dev/null
results=$(mktemp)
for ((r = 1; r <= rounds; r++)); do
  dotnet src/SpeechEmotion.Cli/bin/Release/net10.0/ser.dll bench --threads "$threads" --json | sed 's/^/ours /' >> "$results"
  # OpenBLAS' AVX-512 kernels for the peer only: this machine's OPENBLAS_CORETYPE/L2_SIZE hold it to older ones.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/peers/torch_bench.py --threads "$threads" | sed 's/^/torch /' >> "$results"
done
/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, text = line.split(" ", 1)
    d = json.loads(text)
    rows.setdefault((d["shape"], side), []).append(d)
keys = [("train_samples_per_s", "train samples/s", True), ("infer_samples_per_s", "infer samples/s", True), ("latency_us", "batch-1 latency µs", False)]
print(f"{'shape':9} {'metric':20} {'ours':>10} {'torch':>10} {'ours/torch':>10}")
for shape in ["SEED", "FRAMES", "FRAMES-L"]:
    for key, label, higher in keys:
        ours = statistics.median(d[key] for d in rows.get((shape, "ours"), [{key: float("nan")}]))
        theirs = statistics.median(d[key] for d in rows.get((shape, "torch"), [{key: float("nan")}]))
        ratio = ours / theirs if higher else theirs / ours
        print(f"{shape:9} {label:20} {ours:10.1f} {theirs:10.1f} {ratio:9.2f}x")
peak = [d.get("peak_gflops") for (s, side), ds in rows.items() if side == "ours" for d in ds]
if peak: print(f"FMA peak measured in the same runs (median): {statistics.median(peak):.0f} GFLOP/s; ratios above 1 favour ours")
PY
