#!/usr/bin/env bash
# The two-way rule's arithmetic, from what validation-rule.sh printed for the defaults and for a candidate at one seed:
#   benchmarks/accuracy/two-way.sh DEFAULTS.txt CANDIDATE.txt
# For each protocol: the validation accuracy per speaker and one file at a time (fitted relevance), both runs, and the
# mean of the two differences; then the mean over the protocols, the number each rule in accuracy.md compares with 0.
# Then the same as markdown table cells (validation per speaker / one file (relevance): difference), and the test
# sides and ECE of both runs, which play no part in any rule, for the record.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: benchmarks/accuracy/two-way.sh DEFAULTS.txt CANDIDATE.txt" >&2; exit 2; }
for f in "$1" "$2"; do [ -s "$f" ] || { echo "two-way.sh: $f: no such file, or empty" >&2; exit 2; }; done
extract() { # FILE: "protocol|per speaker|one file|relevance|test|ECE" per protocol, in the file's order
  awk '/ validation: fitted / { name = $0; sub(/ +one file, validation.*/, "", name)
                                match($0, /fitted +[0-9.]+/); f = substr($0, RSTART, RLENGTH); sub(/fitted +/, "", f); one[name] = f
                                match($0, /relevance [^)]*/); r = substr($0, RSTART + 10, RLENGTH - 10); rel[name] = r; next }
       / validation +[0-9.]+ %/ { name = $0; sub(/ +validation.*/, "", name)
                                  match($0, /validation +[0-9.]+/); v = substr($0, RSTART, RLENGTH); sub(/validation +/, "", v)
                                  match($0, /test +[0-9.]+/); t = substr($0, RSTART, RLENGTH); sub(/test +/, "", t)
                                  match($0, /ECE [0-9.]+/); e = substr($0, RSTART + 4, RLENGTH - 4)
                                  order[++n] = name; per[name] = v; test[name] = t; ece[name] = e }
       END { if (n != 3) { print FILENAME ": " n + 0 " protocols, not 3 (an unfinished run?)" > "/dev/stderr"; exit 2 }
             for (i = 1; i <= n; i++) { k = order[i]
               if (one[k] == "") { print FILENAME ": no one-file line for " k " (an unfinished run?)" > "/dev/stderr"; exit 2 }
               print k "|" per[k] "|" one[k] "|" rel[k] "|" test[k] "|" ece[k] } }' "$1"
}
a=$(extract "$1")
b=$(extract "$2")
[ "$(cut -d '|' -f 1 <<< "$a")" = "$(cut -d '|' -f 1 <<< "$b")" ] || { echo "two-way.sh: the two files name other protocols" >&2; exit 2; }
paste -d '|' <(echo "$a") <(cut -d '|' -f 2- <<< "$b") |
  awk -F'|' '{ d = (($7 - $2) + ($8 - $3)) / 2; s += d; n++; name[n] = $1; diff[n] = d
               line[n] = sprintf("%-24s %6.2f / %6.2f → %6.2f / %6.2f   %+.2f", $1, $2, $3, $7, $8, d)
               loso = ($1 ~ /loso/)
               cells[n] = sprintf("| %s | %.2f / %.2f%s | %.2f / %.2f%s: %+.2f |", $1, $2, $3, loso ? "" : " (" $4 ")", $7, $8, loso ? "" : " (" $9 ")", d)
               tests[n] = sprintf("%s: test %s → %s, ECE %s → %s", $1, $5, $10, $6, $11) }
       END { for (i = 1; i <= n; i++) print line[i]
             printf "%-24s %41s %+.2f\n\n", "mean", "", s / n
             for (i = 1; i <= n; i++) print cells[i]
             printf "| **mean** | | **%+.2f** |\n\n", s / n
             for (i = 1; i <= n; i++) print tests[i] }'
