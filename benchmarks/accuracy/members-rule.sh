#!/usr/bin/env bash
# The audit rule for an ensemble: K models that differ only in where training started (ser train --init-seed, the same
# split), each trained for EPOCHS epochs, their probabilities averaged, against the defaults' one model, at four fresh
# seeds, judged on the audit speakers (--audit-speakers 2: two whole RAVDESS actors per run that no training and no
# choice used):
#   benchmarks/accuracy/members-rule.sh OUT FIRST_SEED K EPOCHS [options for every run of both sides…]
# Runs validation-rule.sh with --audit-speakers 2 for the defaults and, with --epochs EPOCHS, for each member (member m
# starts from --init-seed SEED + 1000·(m − 1)) at FIRST_SEED … FIRST_SEED+3 (OUT/defaults-S, OUT/member-M-S and their
# .txt; a finished run is not run again, so a stopped rule resumes). Both sides are then scored the same way, by
# ser evaluate --all-files on a folder of each run's audit actors (hard links; for loso one per fold), per speaker and
# one file at a time: the defaults' model alone, the members' models as an ensemble. Per seed and protocol (RAVDESS →
# TESS, TESS speaker YAF, RAVDESS loso: the mean over its folds) the audit accuracy per speaker and one file at a time,
# both sides, the mean of the two differences; the mean over the protocols; and the decision: the mean of the four
# seeds' means above +0.75. About 16 runs of validation-rule.sh, half of them short (80 minutes on the Zen 4).
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/accuracy/common.sh
rule_arguments members-rule.sh "$@"; shift 2
[ $# -ge 2 ] && [[ $1 =~ ^[1-9][0-9]*$ ]] && [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "members-rule.sh: K and EPOCHS must be positive numbers, after OUT and FIRST_SEED" >&2; exit 2; }
k=$1 epochs=$2; shift 2
speakers() { # METRICS: the audit block's speakers, one per line
  awk '/"audit"/ { a = 1 } a && /"speakers"/ { s = 1; next } s && /\]/ { exit } s { gsub(/[ ",]/, ""); print }' "$1"
}
score() { # PREFIX FOLDER MODEL…: "accuracy one-file-accuracy ECE" (accuracies in %) of the models as an ensemble on
         # every file of FOLDER; ser evaluate's output and metrics in PREFIX.txt, PREFIX.json and PREFIX.one-file.json
  local prefix=$1 folder=$2; shift 2
  local models=() m
  for m in "$@"; do models+=(--model "$m"); done
  ser evaluate "${models[@]}" --all-files --data "$folder" --json "$prefix.json" > "$prefix.txt" 2>&1
  ser evaluate "${models[@]}" --all-files --data "$folder" --one-file-at-a-time --json "$prefix.one-file.json" >> "$prefix.txt" 2>&1
  awk -v a="$(value "$prefix.json" accuracy)" -v o="$(value "$prefix.one-file.json" accuracy)" -v e="$(value "$prefix.json" ece)" \
    'BEGIN { printf "%.4f %.4f %.4f", 100 * a, 100 * o, e }'
}
means=()
for seed in $(seq "$first" $((first + 3))); do
  rule_run "$out" defaults "$seed" --audit-speakers 2 "$@"
  for m in $(seq 1 "$k"); do rule_run "$out" "member-$m" "$seed" --audit-speakers 2 --epochs "$epochs" --init-seed $((seed + 1000 * (m - 1))) "$@"; done
  echo "seed $seed (audit accuracy per speaker / one file: defaults → ensemble of $k × $epochs epochs; ECE per speaker)"
  for protocol in ravdess-to-tess tess-YAF ravdess-loso; do
    if [ "$protocol" = ravdess-loso ]; then runs=(fold-1 fold-2 fold-3 fold-4 fold-5); else runs=(""); fi
    for r in "${runs[@]}"; do
      d="$out/defaults-$seed/$protocol${r:+/$r}"
      mapfile -t actors < <(speakers "$d/metrics.json")
      [ "${#actors[@]}" -eq 2 ] || { echo "$d/metrics.json: ${#actors[@]} audit speakers, not 2" >&2; exit 2; }
      members=()
      for m in $(seq 1 "$k"); do
        e="$out/member-$m-$seed/$protocol${r:+/$r}"
        [ "$(speakers "$e/metrics.json")" = "$(speakers "$d/metrics.json")" ] || { echo "$e holds other audit speakers than $d: not the same split" >&2; exit 2; }
        members+=("$e/model.safetensors")
      done
      folder="$out/audit-$seed/$protocol${r:+-$r}"
      rm -rf "$folder"
      for actor in "${actors[@]}"; do
        [[ $actor =~ ^ravdess:([0-9][0-9])$ ]] || { echo "$d: audit speaker '$actor' is not a RAVDESS actor" >&2; exit 2; }
        mkdir -p "$folder/Actor_${BASH_REMATCH[1]}"
        ln -f data/ravdess/Actor_"${BASH_REMATCH[1]}"/*.wav "$folder/Actor_${BASH_REMATCH[1]}/" 2>/dev/null ||
          cp -f data/ravdess/Actor_"${BASH_REMATCH[1]}"/*.wav "$folder/Actor_${BASH_REMATCH[1]}/"
      done
      echo "$(score "$folder.defaults" "$folder" "$d/model.safetensors") $(score "$folder.ensemble" "$folder" "${members[@]}")"
    done | awk -v name="$protocol" '{ a += $1; o += $2; d += $3; b += $4; p += $5; e += $6; n++ }
      END { printf "%s %.2f %.2f %.2f %.2f %.3f %.3f\n", name, a / n, o / n, b / n, p / n, d / n, e / n }'
  done | awk '{ diff = (($4 - $2) + ($5 - $3)) / 2; s += diff
                printf "  %-16s %6.2f / %6.2f → %6.2f / %6.2f   %+.2f   (ECE %.3f → %.3f)\n", $1, $2, $3, $4, $5, diff, $6, $7 }
              END { printf "  %-16s %38s %+.2f\n", "mean", "", s / 3 }' | tee "$out/audit-$seed.txt"
  means+=("$(awk '/^  mean/ { print $2 }' "$out/audit-$seed.txt")")
done
printf '%s\n' "${means[@]}" | awk '{ s += $1; n++ } END { m = s / n; printf "mean of the %d seeds: %+.2f — %s\n", n, m, (m > 0.75 ? "above +0.75: the ensemble wins" : "not above +0.75: the defaults stay") }'
