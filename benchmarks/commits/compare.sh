#!/usr/bin/env bash
# This checkout (with its uncommitted changes) against another commit, on this machine, in one run: both built,
# then `ser bench --json` alternated ROUNDS times in fresh processes (each the median of 7 repetitions), and the
# median of the rounds per shape and metric with the ratio this/base (> 1 is faster for samples/s, < 1 for latency).
# Usage: benchmarks/commits/compare.sh BASE [ROUNDS] [SHAPE]   (BASE: a commit, e.g. HEAD or HEAD~1; ROUNDS default
# 5; SHAPE SEED, FRAMES, FRAMES-L or all, the default). Run it on an idle machine: nothing else building or training.
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:?usage: benchmarks/commits/compare.sh BASE [ROUNDS] [SHAPE]} rounds=${2:-5} shape=${3:-all}
work=$(mktemp -d); trap 'git worktree remove --force "$work/base-src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs), model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo "base: $(git rev-parse --short "$base"); this: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' with uncommitted changes in src')"
git worktree add --detach "$work/base-src" "$base" >/dev/null 2>&1
dotnet build "$work/base-src/src/SpeechEmotion.Cli" -c Release --artifacts-path "$work/base-a" -o "$work/base" >/dev/null
dotnet build src/SpeechEmotion.Cli -c Release --artifacts-path "$work/this-a" -o "$work/this" >/dev/null
for r in $(seq "$rounds"); do
  dotnet "$work/base/ser.dll" bench --json --shape "$shape" | sed 's/^/base /' >> "$work/results"
  dotnet "$work/this/ser.dll" bench --json --shape "$shape" | sed 's/^/this /' >> "$work/results"
done
awk -v a=base -v b=this -f benchmarks/medians.awk "$work/results"
