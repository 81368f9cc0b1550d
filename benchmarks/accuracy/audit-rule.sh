#!/usr/bin/env bash
# The audit rule of benchmarks/accuracy.md: a candidate against the defaults at four fresh seeds, judged on held-out
# speakers no choice looked at: the audit part (ser train --audit-speakers 2: two whole speakers of each training corpus
# held out of training and of every choice) and, from the rule for --crop 0 on (2026-12-07, 23:59 UTC), the validation
# part too (whole speakers held out of training; with the last epoch kept nothing is chosen by its per-speaker accuracy):
#   benchmarks/accuracy/audit-rule.sh OUT FIRST_SEED [candidate ser train options…]
# Runs validation-rule.sh with --audit-speakers 2 for the defaults and for the candidate at FIRST_SEED … FIRST_SEED+3
# (OUT/defaults-S, OUT/candidate-S and their .txt; a finished seed is not run again, so a stopped rule resumes). Per
# seed and protocol (RAVDESS → TESS, TESS speaker YAF, RAVDESS loso: the mean over its folds) the audit accuracy per
# speaker and one file at a time, both sides, the mean of the two differences, and the validation accuracy per speaker
# of both sides and its difference; per seed the mean over the protocols of each, and their mean; the decision: the
# mean of the four seeds' means above +0.75. (The rules before it read the audit column alone: their decisions
# are in benchmarks/accuracy.md.) About 8 runs of validation-rule.sh (an hour on the Zen 4).
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/accuracy/common.sh
rule_arguments audit-rule.sh "$@"; shift 2
audit() { # RUN_DIR…: the audit accuracy per speaker and one file at a time, in %, the mean over the runs given
  for m in "$@"; do echo "$(block "$m/metrics.json" audit accuracy) $(block "$m/metrics.json" audit one_file_accuracy)"; done |
    awk '{ a += $1; o += $2; n++ } END { printf "%.2f %.2f", 100 * a / n, 100 * o / n }'
}
means=()
for seed in $(seq "$first" $((first + 3))); do
  rule_seed "$out" "$seed" 2 --audit-speakers 2 "$@"
  echo "seed $seed (audit accuracy per speaker / one file, then validation accuracy per speaker: defaults → candidate)"
  for protocol in ravdess-to-tess tess-YAF ravdess-loso; do
    if [ "$protocol" = ravdess-loso ]; then d=("$out/defaults-$seed/ravdess-loso"/fold-*); c=("$out/candidate-$seed/ravdess-loso"/fold-*)
    else d=("$out/defaults-$seed/$protocol"); c=("$out/candidate-$seed/$protocol"); fi
    echo "$protocol $(audit "${d[@]}") $(audit "${c[@]}") $(validation "${d[@]}") $(validation "${c[@]}")"
  done | awk '{ diff = (($4 - $2) + ($5 - $3)) / 2; vdiff = $7 - $6; s += diff; vs += vdiff
                printf "  %-16s %6.2f / %6.2f → %6.2f / %6.2f   %+.2f   validation %6.2f → %6.2f   %+.2f\n", $1, $2, $3, $4, $5, diff, $6, $7, vdiff }
              END { printf "  %-16s audit %+.2f, validation %+.2f, their mean %+.2f\n", "mean", s / 3, vs / 3, (s + vs) / 6 }' | tee "$out/audit-$seed.txt"
  means+=("$(tail -1 "$out/audit-$seed.txt" | awk '{ print $NF }')")
done
printf '%s\n' "${means[@]}" | awk '{ s += $1; n++ } END { m = s / n
  printf "mean over the four seeds %+.2f: %s\n", m, (m > 0.75 ? "above +0.75, the candidate wins (if the first command stays under 5 minutes)" : "not above +0.75, the defaults stay") }'
