#!/usr/bin/env bash
# The test-time rule of benchmarks/accuracy.md ("Test-time augmentation by the training warps"): a change made only
# when a trained model is scored, measured on the same models with and without it, at four fresh seeds.
#   benchmarks/accuracy/test-time-rule.sh OUT FIRST_SEED
# Runs validation-rule.sh with the defaults and --tta (which adds the scores below and leaves the model's bits as they
# are) at FIRST_SEED … FIRST_SEED+3 into OUT/defaults-S (its printed lines in
# OUT/defaults-S.txt, as four-seed-rule.sh names them, so a later four-seed rule can reuse them; a seed whose .txt is
# complete is not run again). Then, from each run's metrics.json block "test_time_augmentation": the validation
# accuracy with the views against without (the same model, the epoch chosen without them), per protocol (loso: the
# mean over its folds), the mean over the three protocols per seed, and the decisions: the mean over the four seeds
# against +0.75, per speaker and one file at a time (each decided alone). The test sides are printed beside and play no part. About 40 minutes on
# the Zen 4.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: benchmarks/accuracy/test-time-rule.sh OUT FIRST_SEED" >&2; exit 2; }
cd "$(dirname "$0")/../.."
out=$1 first=$2
[[ $first =~ ^[0-9]+$ ]] || { echo "test-time-rule.sh: FIRST_SEED must be a number, got '$first'" >&2; exit 2; }
mkdir -p "$out"
source benchmarks/accuracy/common.sh
tta() { block "$1" test_time_augmentation "$2"; }
# NAME FILE…: the mean over the files of each field pair, in points: validation per speaker, one file; test per speaker, one file.
line() {
  local name=$1; shift
  for f in "$@"; do
    [ -n "$(tta "$f" validation_accuracy)" ] || { echo "test-time-rule.sh: $f has no test_time_augmentation block" >&2; exit 2; }
    echo "$(tta "$f" validation_accuracy_plain) $(tta "$f" validation_accuracy) $(tta "$f" one_file_validation_accuracy_plain) $(tta "$f" one_file_validation_accuracy) $(value "$f" accuracy) $(tta "$f" accuracy) $(one_file "$f" accuracy) $(tta "$f" one_file_accuracy)"
  done | awk -v name="$name" '{ for (i = 1; i <= 8; i++) s[i] += $i; n++ } END {
    for (i = 1; i <= 8; i++) s[i] = 100 * s[i] / n
    printf "%-24s validation %6.2f → %6.2f %% (%+.2f), one file %6.2f → %6.2f %% (%+.2f) | test %6.2f → %6.2f %%, one file %6.2f → %6.2f %%\n",
      name, s[1], s[2], s[2] - s[1], s[3], s[4], s[4] - s[3], s[5], s[6], s[7], s[8] }'
}
means=()
for seed in $(seq "$first" $((first + 3))); do
  txt="$out/defaults-$seed.txt"
  if ! complete "$txt"; then
    if ! benchmarks/accuracy/validation-rule.sh "$seed" "$out/defaults-$seed" --tta > "$txt.partial"; then
      echo "test-time-rule.sh: the defaults' run at seed $seed failed; its ser train logs are in $out/defaults-$seed/" >&2
      exit 2
    fi
    mv "$txt.partial" "$txt"
  fi
  d="$out/defaults-$seed"
  {
    line "RAVDESS → TESS" "$d/ravdess-to-tess/metrics.json"
    line "TESS speaker YAF" "$d/tess-YAF/metrics.json"
    line "RAVDESS loso (5 folds)" "$d"/ravdess-loso/fold-*/metrics.json
  } > "$out/test-time-$seed.txt"
  echo "seed $seed"
  cat "$out/test-time-$seed.txt"
  # The two differences of each line: per speaker, then one file.
  mean=$(grep -o '([-+][0-9.]*)' "$out/test-time-$seed.txt" | tr -d '()' | paste - - | awk '{ s += $1; o += $2; n++ } END { printf "%+.2f %+.2f", s / n, o / n }')
  echo "  mean validation difference over the three protocols: per speaker ${mean% *}, one file ${mean#* }"
  means+=("$mean")
done
printf '%s\n' "${means[@]}" | awk '{ s += $1; o += $2; n++ } END { s /= n; o /= n
  printf "mean over the four seeds, per speaker %+.2f: %s\n", s, (s > 0.75 ? "above +0.75, test-time augmentation wins per speaker" : "not above +0.75, per-speaker scoring stays plain")
  printf "mean over the four seeds, one file %+.2f: %s\n", o, (o > 0.75 ? "above +0.75, test-time augmentation wins one file at a time" : "not above +0.75, one-file scoring stays plain") }'
