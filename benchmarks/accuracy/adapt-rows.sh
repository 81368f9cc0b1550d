#!/usr/bin/env bash
# The README's transductive rows ("Adapting to the voices you have"): the many-voices rows whose training side holds many
# voices, each with --adapt 4 (self-training on the test side's unlabelled audio), seed 1:
#   benchmarks/accuracy/adapt-rows.sh [OUT] [extra ser train options…]
# Needs data/tess and data/ravdess. Prints one line per row: the score before adaptation (metrics.json's
# before_adaptation, the inductive table's row to the digit) and after, per speaker and one file at a time, with the
# adapted model's ECE. About 20 minutes on 2 cores; the run folders stay in OUT (default runs/adapt-rows).
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/accuracy/common.sh
run_folder "${1:-}" runs/adapt-rows; shift || true
row() {
  awk -v name="$1" -v b="$(block "$2" before_adaptation accuracy)" -v bu="$(block "$2" before_adaptation uar)" \
      -v a="$(value "$2" accuracy)" -v u="$(value "$2" uar)" -v e="$(value "$2" ece)" -v f="$(value "$2" ece_floor)" \
      -v oa="$(one_file "$2" accuracy)" -v ou="$(one_file "$2" uar)" \
    'BEGIN { printf "%-40s before %6.2f %% (UAR %6.2f %%)  after %6.2f %% (UAR %6.2f %%)  ECE %.3f (calibrated %.3f)  | one file %6.2f %% (UAR %6.2f %%)\n",
             name, 100 * b, 100 * bu, 100 * a, 100 * u, e, f, 100 * oa, 100 * ou }'
}
train() { local name=$1; shift; ser train "$@" --adapt 4 --out "$out/$name" > "$out/$name.log" 2>&1; }

train tess-to-ravdess "${both[@]}" --protocol corpus --test-corpus ravdess "$@"
row "corpus, TESS → RAVDESS" "$out/tess-to-ravdess/metrics.json"
train ravdess-to-tess "${both[@]}" --protocol corpus --test-corpus tess "$@"
row "corpus, RAVDESS → TESS" "$out/ravdess-to-tess/metrics.json"
for speaker in YAF OAF; do
  train "tess-$speaker" "${both[@]}" --protocol speaker --test-speaker "tess:$speaker" "$@"
  row "speaker tess:$speaker, RAVDESS in training" "$out/tess-$speaker/metrics.json"
done
