#!/usr/bin/env bash
# The Native AOT ser against the JIT ser on this machine, in one run: both built from this checkout, then
# `ser bench --json` alternated ROUNDS times (default 3; each run takes the median of 7 repetitions), and the median
# of the rounds per shape and metric, with the AOT/JIT ratio (> 1 is faster for samples/s, < 1 for latency).
# Usage: benchmarks/aot/compare.sh [ROUNDS] [INSTRUCTION_SET]   (the AOT build's IlcInstructionSet; default the
# project's, x86-64-v3; e.g. x86-64-v4 or native)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
isa=${2:+-p:IlcInstructionSet=$2}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs), model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
dotnet build src/SpeechEmotion.Cli -c Release --artifacts-path "$work/jit-a" -o "$work/jit" >/dev/null
dotnet publish src/SpeechEmotion.Cli -c Release -r linux-x64 -p:PublishAot=true ${isa:-} --artifacts-path "$work/aot-a" -o "$work/aot" >/dev/null
echo "AOT binary: $(du -m "$work/aot/ser" | cut -f1) MB, instruction set ${2:-x86-64-v3 (the project default)}; vectors: JIT $("$work/jit/ser" bench --determinism | awk '$1 == "vectors" {print $2}'), AOT $("$work/aot/ser" bench --determinism | awk '$1 == "vectors" {print $2}')"
for r in $(seq "$rounds"); do
  "$work/jit/ser" bench --json | sed 's/^/jit /' >> "$work/results"
  "$work/aot/ser" bench --json | sed 's/^/aot /' >> "$work/results"
done
awk -v a=jit -v b=aot -v A=JIT -v B=AOT -f benchmarks/medians.awk "$work/results"
