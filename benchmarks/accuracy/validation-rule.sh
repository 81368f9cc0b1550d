#!/usr/bin/env bash
# The three protocols that have a validation part of held-out speakers, for choosing a default by the rule in
# benchmarks/accuracy.md (mean validation difference > 0):
#   benchmarks/accuracy/validation-rule.sh SEED OUT [extra ser train options…]
# Needs data/tess and data/ravdess. Runs RAVDESS → TESS, the TESS speaker protocol (test tess:YAF, RAVDESS in
# training) and RAVDESS loso (5 folds), about 8 minutes on 2 cores, and prints one line per protocol: the validation
# accuracy the run chose by (loso: the mean over the folds), then test accuracy, one file at a time and ECE, which
# play no part in the choice. The run folders stay in OUT. Save the output (… > OUT.txt) for each of the defaults and a
# candidate at the same seed; benchmarks/accuracy/two-way.sh DEFAULTS.txt CANDIDATE.txt then does the rule's arithmetic.
set -euo pipefail
cd "$(dirname "$0")/../.."
seed=$1 out=$2; shift 2
mkdir -p "$out"
source benchmarks/accuracy/common.sh
one_file_line() { # NAME DIR…: the validation one-file accuracy with the fitted relevance and without (mean over the runs given)
  local name=$1; shift
  for d in "$@"; do echo "$(one_file "$d/metrics.json" validation_accuracy) $(one_file "$d/metrics.json" validation_accuracy_unadapted) $(one_file "$d/metrics.json" relevance)"; done |
    awk -v name="$name" '{ a += $1; u += $2; n++; r = r (n > 1 ? "," : "") $3 } END { printf "%-28s one file, validation: fitted %6.2f %%, unadapted %6.2f %%, difference %+.2f (relevance %s)\n", name, 100 * a / n, 100 * u / n, 100 * (a - u) / n, r }'
}
row() {
  local name=$1 dir=$2
  awk -v name="$name" -v v="$(value "$dir/metrics.json" validation_accuracy)" -v a="$(value "$dir/metrics.json" accuracy)" \
      -v e="$(value "$dir/metrics.json" ece)" -v o="$(one_file "$dir/metrics.json" accuracy)" \
    'BEGIN { printf "%-28s validation %6.2f %%  test %6.2f %%  one file %6.2f %%  ECE %.3f\n", name, 100 * v, 100 * a, 100 * o, e }'
}
ser train "${both[@]}" --protocol corpus --test-corpus tess --seed "$seed" --out "$out/ravdess-to-tess" "$@" > "$out/ravdess-to-tess.log" 2>&1
row "RAVDESS → TESS" "$out/ravdess-to-tess"
one_file_line "RAVDESS → TESS" "$out/ravdess-to-tess"
ser train "${both[@]}" --protocol speaker --test-speaker tess:YAF --seed "$seed" --out "$out/tess-YAF" "$@" > "$out/tess-YAF.log" 2>&1
row "TESS speaker YAF" "$out/tess-YAF"
one_file_line "TESS speaker YAF" "$out/tess-YAF"
ser train --data data/ravdess --protocol loso --seed "$seed" --out "$out/ravdess-loso" "$@" > "$out/ravdess-loso.log" 2>&1
validation=$(validation "$out"/ravdess-loso/fold-*)
awk -v v="$validation" -v a="$(value "$out/ravdess-loso/loso.json" accuracy_mean)" -v s="$(value "$out/ravdess-loso/loso.json" accuracy_sd)" \
    -v o="$(value "$out/ravdess-loso/loso.json" one_file_at_a_time_accuracy_mean)" -v e="$(value "$out/ravdess-loso/loso.json" ece_mean)" \
  'BEGIN { printf "%-28s validation %6.2f %%  test %6.2f %% ± %.2f  one file %6.2f %%  ECE %.3f\n", "RAVDESS loso (5 folds)", v, 100 * a, 100 * s, 100 * o, e }'
one_file_line "RAVDESS loso (5 folds)" "$out"/ravdess-loso/fold-*
