#!/usr/bin/env bash
# The four-seed rule of benchmarks/accuracy.md ("How much the two-stage rule can tell"): a candidate against the
# defaults at four fresh seeds in one stage, the two-way mean at each, and the decision against +0.75.
#   benchmarks/accuracy/four-seed-rule.sh OUT FIRST_SEED [candidate ser train options…]
# Runs validation-rule.sh for the defaults and for the candidate at FIRST_SEED … FIRST_SEED+3 into OUT (OUT/defaults-S,
# OUT/candidate-S, each with its printed lines in a .txt beside); a seed whose .txt is already complete is not run again,
# so the defaults' rows can be measured once for several candidates (copy them in) and a stopped rule resumes. Write the
# rule into accuracy.md before running this. About 8 runs of validation-rule.sh (40 minutes on the Zen 4).
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/accuracy/common.sh
rule_arguments four-seed-rule.sh "$@"; shift 2
means=()
for seed in $(seq "$first" $((first + 3))); do
  rule_seed "$out" "$seed" 0 "$@"
  echo "seed $seed"
  benchmarks/accuracy/two-way.sh "$out/defaults-$seed.txt" "$out/candidate-$seed.txt" | tee "$out/two-way-$seed.txt" | sed -n '1,4p'
  means+=("$(sed -n '4p' "$out/two-way-$seed.txt" | awk '{ print $NF }')")
done
printf '%s\n' "${means[@]}" | awk '{ s += $1; n++ } END { m = s / n
  printf "mean over the four seeds %+.2f: %s\n", m, (m > 0.75 ? "above +0.75, the candidate wins (if the first command stays under 5 minutes)" : "not above +0.75, the defaults stay") }'
