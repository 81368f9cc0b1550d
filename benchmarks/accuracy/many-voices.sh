#!/usr/bin/env bash
# Reruns every row of the README's many-voices table:
#   benchmarks/accuracy/many-voices.sh [OUT] [extra ser train options…]
# Needs data/tess and data/ravdess (../shared/data/get-tess data/tess; ../shared/data/get-ravdess data/ravdess).
# Each row is `ser train` with the default options (plus any extra ones given here), seed 1 unless the row says
# otherwise; about 15 minutes on 2 cores (warm feature cache). Prints one line per row: test accuracy, UAR and ECE beside the ECE a perfectly
# calibrated model with the same confidences would score on as many files (metrics.json's ece_floor) (for loso, the mean ±
# standard deviation over the folds). The run folders stay in OUT (default runs/many-voices).
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/accuracy/common.sh
run_folder "${1:-}" runs/many-voices; shift || true
row() {
  awk -v name="$1" -v a="$(value "$2" accuracy)" -v u="$(value "$2" uar)" -v e="$(value "$2" ece)" -v f="$(value "$2" ece_floor)" \
      -v oa="$(one_file "$2" accuracy)" -v ou="$(one_file "$2" uar)" -v oe="$(one_file "$2" ece)" -v of="$(one_file "$2" ece_floor)" -v r="$(one_file "$2" relevance)" \
    'BEGIN { printf "%-52s accuracy %6.2f %%  UAR %6.2f %%  ECE %.3f (calibrated %.3f)", name, 100 * a, 100 * u, e, f
             if (oa != "") printf "  | one file %6.2f %%  UAR %6.2f %%  ECE %.3f (calibrated %.3f)  (relevance %s)", 100 * oa, 100 * ou, oe, of, r
             printf "\n" }'
}
train() { local name=$1; shift; ser train "$@" --out "$out/$name" > "$out/$name.log" 2>&1; }

train tess-to-ravdess "${both[@]}" --protocol corpus --test-corpus ravdess "$@"
row "corpus, TESS → RAVDESS (7 shared classes)" "$out/tess-to-ravdess/metrics.json"
train ravdess-to-tess "${both[@]}" --protocol corpus --test-corpus tess "$@"
row "corpus, RAVDESS → TESS (7 shared classes)" "$out/ravdess-to-tess/metrics.json"
train ravdess-loso --data data/ravdess --protocol loso "$@"
awk -v a="$(value "$out/ravdess-loso/loso.json" accuracy_mean)" -v s="$(value "$out/ravdess-loso/loso.json" accuracy_sd)" \
    -v u="$(value "$out/ravdess-loso/loso.json" uar_mean)" -v e="$(value "$out/ravdess-loso/loso.json" ece_mean)" -v f="$(value "$out/ravdess-loso/loso.json" ece_floor_mean)" \
    -v o="$(value "$out/ravdess-loso/loso.json" one_file_at_a_time_accuracy_mean)" -v os="$(value "$out/ravdess-loso/loso.json" one_file_at_a_time_accuracy_sd)" \
    'BEGIN { printf "%-52s accuracy %6.2f %% ± %.2f  UAR %6.2f %%  ECE %.3f (calibrated %.3f)  | one file %6.2f %% ± %.2f\n", "loso, RAVDESS alone, 5 folds, 8 classes", 100 * a, 100 * s, 100 * u, e, f, 100 * o, 100 * os }'
for seed in 1 2 3; do
  for speaker in YAF OAF; do
    train "tess-$speaker-seed$seed" "${both[@]}" --protocol speaker --test-speaker "tess:$speaker" --seed "$seed" "$@"
    row "speaker tess:$speaker, RAVDESS in training, seed $seed" "$out/tess-$speaker-seed$seed/metrics.json"
  done
done
train tess-random --data data/tess "$@"
row "random, TESS" "$out/tess-random/metrics.json"
train tess-word --data data/tess --protocol word "$@"
row "word, TESS" "$out/tess-word/metrics.json"
