# Shared by the scripts of this folder (sourced, from the repository root): builds ser once and defines
#   ser ARGS…          the Release build of the CLI
#   both               the --data options of TESS and RAVDESS
#   value FILE FIELD   the first value of a JSON number field, as written by ser (one field per line)
#   block FILE BLOCK FIELD  FIELD of a metrics.json's BLOCK (e.g. test_time_augmentation), empty without one
#   one_file FILE FIELD  FIELD of a metrics.json's "one_file_at_a_time" block (accuracy, uar, ece, relevance,
#                      validation_accuracy, validation_accuracy_unadapted), empty without one
#   complete FILE      whether FILE is a finished validation-rule.sh output (its six lines)
#   validation RUN_DIR…  the validation accuracy per speaker in % (metrics.json's validation_accuracy), the mean over
#                      the runs given (a loso's folds)
#   run_folder OUT DEFAULT  sets out to OUT, or DEFAULT when OUT is empty, and makes the folder
#   rule_arguments SCRIPT OUT FIRST_SEED …  checks the two arguments every rule script takes, sets out and first, makes OUT
#   rule_run OUT NAME SEED OPTION…  validation-rule.sh at SEED with the options into OUT/NAME-SEED, its printed lines in
#                      OUT/NAME-SEED.txt; not run again when that .txt is complete (a stopped rule resumes)
#   rule_seed OUT SEED N OPTION…  rule_run for the defaults and a candidate (OUT/defaults-SEED, OUT/candidate-SEED): the
#                      first N options go to both sides, the rest to the candidate only
dotnet build src/SpeechEmotion.Cli -c Release -v quiet -nologo >/dev/null
ser() { dotnet src/SpeechEmotion.Cli/bin/Release/net10.0/ser.dll "$@"; }
both=(--data data/tess --data data/ravdess)
value() { grep -o "\"$2\": [-0-9.eE+]*" "$1" | head -1 | awk '{print $2}'; }
block() { sed -n "/\"$2\"/,/}/p" "$1" | grep -o "\"$3\": [^,}]*" | head -1 | sed 's/.*: //; s/"//g'; }
one_file() { block "$1" one_file_at_a_time "$2"; }
complete() { [ -s "$1" ] && [ "$(grep -c 'validation' "$1")" -eq 6 ]; }
validation() { for m in "$@"; do value "$m/metrics.json" validation_accuracy; done | awk '{ v += $1; n++ } END { printf "%.2f", 100 * v / n }'; }
run_folder() { out=${1:-$2}; mkdir -p "$out"; }
rule_arguments() {
  local script=$1; shift
  [ $# -ge 2 ] || { echo "usage: benchmarks/accuracy/$script OUT FIRST_SEED [candidate options…]" >&2; exit 2; }
  out=$1 first=$2
  [[ $first =~ ^[0-9]+$ ]] || { echo "$script: FIRST_SEED must be a number, got '$first'" >&2; exit 2; }
  mkdir -p "$out"
}
rule_run() {
  local out=$1 name=$2 seed=$3; shift 3
  local txt="$out/$name-$seed.txt"
  complete "$txt" && return 0
  if ! benchmarks/accuracy/validation-rule.sh "$seed" "$out/$name-$seed" "$@" > "$txt.partial"; then
    echo "the $name run at seed $seed failed; its ser train logs are in $out/$name-$seed/" >&2
    exit 2
  fi
  mv "$txt.partial" "$txt"
}
rule_seed() {
  local out=$1 seed=$2 n=$3; shift 3
  local shared=("${@:1:n}") extra=("${@:n+1}")
  rule_run "$out" defaults "$seed" "${shared[@]}"
  rule_run "$out" candidate "$seed" "${shared[@]}" "${extra[@]}"
}
