#!/usr/bin/env bash
# The two-way rule's arithmetic, from what validation-rule.sh printed for the defaults and for a candidate at one seed:
#   benchmarks/accuracy/two-way.sh DEFAULTS.txt CANDIDATE.txt
# For each protocol: the validation accuracy per speaker and one file at a time (fitted relevance), both runs, and the
# mean of the two differences; then the mean over the protocols, the number each rule in accuracy.md compares with 0.
set -euo pipefail
extract() { # FILE: "protocol|per speaker|one file" per protocol, in the file's order
  awk '/ validation: fitted / { split($0, a, "  +"); name = a[1]; sub(/ +one file.*/, "", name); match($0, /fitted +[0-9.]+/); f = substr($0, RSTART, RLENGTH); sub(/fitted +/, "", f); one[name] = f; next }
       / validation +[0-9.]+ %/ { name = $0; sub(/ +validation.*/, "", name); match($0, /validation +[0-9.]+/); v = substr($0, RSTART, RLENGTH); sub(/validation +/, "", v); order[++n] = name; per[name] = v }
       END { for (i = 1; i <= n; i++) print order[i] "|" per[order[i]] "|" one[order[i]] }' "$1"
}
join -t '|' <(extract "$1" | awk -F'|' '{ print NR "_" $0 }' | sort) <(extract "$2" | awk -F'|' '{ print NR "_" $0 }' | sort) |
  sort -n | awk -F'|' '{ name = $1; sub(/^[0-9]+_/, "", name); d = (($4 - $2) + ($5 - $3)) / 2; s += d; n++
    printf "%-24s %6.2f / %6.2f → %6.2f / %6.2f   %+.2f\n", name, $2, $3, $4, $5, d }
    END { if (n != 3) { print "expected three protocols in each file, found " n > "/dev/stderr"; exit 1 } printf "%-24s %41s %+.2f\n", "mean", "", s / n }'
