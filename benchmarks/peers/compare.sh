#!/usr/bin/env bash
# Runs `ser bench` and its peers alternately in fresh processes, ROUNDS times each, and prints the median of each
# side per shape with the ratio ours/theirs. Usage: benchmarks/peers/compare.sh [ROUNDS] [THREADS]
# Peers: PyTorch (torch_bench.py, Debian's python3-torch) and TorchSharp (torchsharp.sh, libtorch 2.10 from
# NuGet); torch-ftz is PyTorch with torch.set_flush_denormal(True) (flush-to-zero: its cure for slow subnormals).
# PEERS="torch torch-ftz" (say) runs some of them. Each row also names the best peer and our ratio to it.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}; threads=${2:-2}; peers=${PEERS:-torch torch-ftz torchsharp}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs), model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $rounds rounds, $threads threads"
dotnet build -c Release src/SpeechEmotion.Cli -v quiet -nologo >/dev/null
results=$(mktemp)
for ((r = 1; r <= rounds; r++)); do
  dotnet src/SpeechEmotion.Cli/bin/Release/net10.0/ser.dll bench --threads "$threads" --json | sed 's/^/ours /' >> "$results"
  for peer in $peers; do
    case $peer in
      # OpenBLAS' AVX-512 kernels for the peer only: this machine's OPENBLAS_CORETYPE/L2_SIZE hold it to older ones.
      torch) env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/peers/torch_bench.py --threads "$threads" | sed 's/^/torch /' >> "$results" ;;
      torch-ftz) env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/peers/torch_bench.py --threads "$threads" --flush-denormal | sed 's/^/torch-ftz /' >> "$results" ;;
      torchsharp) benchmarks/peers/torchsharp.sh --threads "$threads" | sed 's/^/torchsharp /' >> "$results" ;;
      *) echo "unknown peer '$peer' (torch, torch-ftz, torchsharp)" >&2; exit 2 ;;
    esac
  done
done
/usr/bin/python3 - "$results" $peers <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, text = line.split(" ", 1)
    d = json.loads(text)
    rows.setdefault((d["shape"], side), []).append(d)
peers = sys.argv[2:]
keys = [("train_samples_per_s", "train samples/s", True), ("infer_samples_per_s", "infer samples/s", True), ("latency_us", "batch-1 latency µs", False)]
def median(shape, side, key):
    values = [d[key] for d in rows.get((shape, side), [])]
    return statistics.median(values) if values else float("nan")
print(f"{'shape':9} {'metric':20} {'ours':>10}" + "".join(f" {p:>11}" for p in peers) + "".join(f" {'ours/' + p:>16}" for p in peers) + f" {'best peer':>11} {'ours/best':>10}")
for shape in ["SEED", "FRAMES", "FRAMES-L"]:
    for key, label, higher in keys:
        ours = median(shape, "ours", key)
        theirs = [median(shape, p, key) for p in peers]
        ratios = [ours / t if higher else t / ours for t in theirs]
        best = min(range(len(peers)), key=lambda k: ratios[k])  # the peer we beat by the least (or lose to by the most)
        print(f"{shape:9} {label:20} {ours:10.1f}" + "".join(f" {t:11.1f}" for t in theirs) + "".join(f" {r:15.2f}x" for r in ratios)
              + f" {peers[best]:>11} {ratios[best]:9.2f}x")
peak = [d.get("peak_gflops") for (s, side), ds in rows.items() if side == "ours" for d in ds]
if peak: print(f"FMA peak measured in the same runs (median): {statistics.median(peak):.0f} GFLOP/s; ratios above 1 favour ours")
PY
