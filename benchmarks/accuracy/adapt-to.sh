#!/usr/bin/env bash
# ser train --adapt-to, measured as a user would use it: a model trained on RAVDESS alone (seed 1, the default options plus any given)
# adapts to TESS's recordings given as a folder of unlabelled audio, one folder per voice, then both the adapted model
# and the model before adaptation are scored on every TESS file (ser evaluate --all-files):
#   benchmarks/accuracy/adapt-to.sh [OUT] [extra ser train options…]
# Needs data/tess and data/ravdess. The folder OUT/voices/{OAF,YAF} holds hard links to TESS's files (no copy; outside
# data/, where ser train would take it for a corpus): --adapt-to takes each folder's files as one voice, and TESS's own
# folders are one per speaker *and emotion*, which would standardise each emotion away. About 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/accuracy/common.sh
run_folder "${1:-}" runs/adapt-to; shift || true
target=$out/voices
for voice in OAF YAF; do
  mkdir -p "$target/$voice"
  find data/tess/ -type f -name "*.wav" -path "*/${voice}_*" | while read -r file; do
    ln -f "$file" "$target/$voice/$(basename "$file")" 2>/dev/null || cp -f "$file" "$target/$voice/$(basename "$file")"
  done
done
# Extra ser train options after OUT are passed on (e.g. --lr-schedule constant --keep best for the model measured at a908841).
ser train --data data/ravdess --adapt-to "$target" "$@" --out "$out/ravdess-adapted-to-tess" > "$out/train.log" 2>&1
for model in model model-before-adaptation; do
  ser evaluate --model "$out/ravdess-adapted-to-tess/$model.safetensors" --all-files --data data/tess > "$out/$model.txt" 2> "$out/$model.err"
  ser evaluate --model "$out/ravdess-adapted-to-tess/$model.safetensors" --all-files --data data/tess --one-file-at-a-time > "$out/$model-one-file.txt" 2>> "$out/$model.err"
  printf '%-28s per speaker: %s | one file: %s\n' "$model" "$(grep -m1 'accuracy' "$out/$model.txt" | sed 's/^ *//')" "$(grep -m1 'accuracy' "$out/$model-one-file.txt" | sed 's/^ *//')"
done
