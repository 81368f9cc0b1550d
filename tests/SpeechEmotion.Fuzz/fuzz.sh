#!/usr/bin/env bash
# Fuzz one target with AFL++ through SharpFuzz, then add what it found to the replayed corpus.
#   tests/SpeechEmotion.Fuzz/fuzz.sh audio|model|zip [SECONDS=600]
# Needs: apt-get install afl++; dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0.
# Works in a scratch folder; the repository gets only corpus/<target>/<sha1-prefix> files (the queue AFL++ kept:
# inputs that reached new code) and, when there were crashes or hangs, those inputs too, to fix before committing.
set -euo pipefail
target=${1:?target: audio, model or zip}; seconds=${2:-600}
here=$(cd "$(dirname "$0")" && pwd)
work=${FUZZ_WORK:-/tmp/ser-fuzz}/$target
export PATH="$PATH:$HOME/.dotnet/tools"
rm -rf "$work"; mkdir -p "$work"
# Its own artifacts folder: a build here never touches (or races) the repository's bin/ and obj/.
dotnet publish "$here/SpeechEmotion.Fuzz.csproj" -c Release -o "$work/bin" --artifacts-path "$work/artifacts" >/dev/null
dotnet "$work/bin/SpeechEmotion.Fuzz.dll" seed "$work/seeds" # before instrumenting: instrumented code needs AFL's map
for dll in "$work"/bin/SpeechEmotion.*.dll; do
  [[ $(basename "$dll") == SpeechEmotion.Fuzz.dll ]] || sharpfuzz "$dll" >/dev/null
done
mkdir -p "$work/in"; cp "$work/seeds/$target"/* "$work/in/"
[[ -d $here/corpus/$target ]] && cp "$here/corpus/$target"/* "$work/in/" 2>/dev/null || true
# The differential stream target starts from what the audio target found, too.
[[ $target == stream && -d $here/corpus/audio ]] && cp "$here/corpus/audio"/* "$work/in/" 2>/dev/null || true
# dotnet itself is not instrumented (SharpFuzz feeds AFL's map from managed code): skip AFL's binary check.
AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
  afl-fuzz -i "$work/in" -o "$work/out" -t 10000 -m none -V "$seconds" -- dotnet "$work/bin/SpeechEmotion.Fuzz.dll" "$target" \
  > "$work/afl.log" 2>&1 || { tail -20 "$work/afl.log"; exit 1; }
grep -E "execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|edges_found|total_edges" "$work/out/default/fuzzer_stats" || true
mkdir -p "$here/corpus/$target"
for kind in queue crashes hangs; do
  for f in "$work/out/default/$kind"/id:*; do
    [[ -f $f ]] || continue
    cp "$f" "$here/corpus/$target/$(sha1sum "$f" | cut -c1-16)"
    [[ $kind == queue ]] || echo "finding ($kind): $f"
  done
done
echo "corpus/$target: $(ls "$here/corpus/$target" | wc -l) files"
