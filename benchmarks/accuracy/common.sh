# Shared by the scripts of this folder (sourced, from the repository root): builds ser once and defines
#   ser ARGS…          the Release build of the CLI
#   both               the --data options of TESS and RAVDESS
#   value FILE FIELD   the first value of a JSON number field, as written by ser (one field per line)
#   block FILE BLOCK FIELD  FIELD of a metrics.json's BLOCK (e.g. test_time_augmentation), empty without one
#   one_file FILE FIELD  FIELD of a metrics.json's "one_file_at_a_time" block (accuracy, uar, ece, relevance,
#                      validation_accuracy, validation_accuracy_unadapted), empty without one
#   complete FILE      whether FILE is a finished validation-rule.sh output (its six lines)
dotnet build src/SpeechEmotion.Cli -c Release -v quiet -nologo >/dev/null
ser() { dotnet src/SpeechEmotion.Cli/bin/Release/net10.0/ser.dll "$@"; }
both=(--data data/tess --data data/ravdess)
value() { grep -o "\"$2\": [-0-9.eE+]*" "$1" | head -1 | awk '{print $2}'; }
block() { sed -n "/\"$2\"/,/}/p" "$1" | grep -o "\"$3\": [^,}]*" | head -1 | sed 's/.*: //; s/"//g'; }
one_file() { block "$1" one_file_at_a_time "$2"; }
complete() { [ -s "$1" ] && [ "$(grep -c 'validation' "$1")" -eq 6 ]; }
