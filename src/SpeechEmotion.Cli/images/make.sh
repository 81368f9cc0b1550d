#!/usr/bin/env bash
# Regenerates timeline.png and explain.png from synthetic speech (espeak-ng), never from corpus audio:
#   src/SpeechEmotion.Cli/images/make.sh MODEL      (e.g. runs/<run>/model.safetensors of `ser train`)
# Needs: apt-get install espeak-ng sox chromium.
set -euo pipefail
model=${1:?a model file}
here=$(cd "$(dirname "$0")" && pwd); work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
espeak-ng -w a.wav -s 150 -p 70 "I can't believe you did that again, this is outrageous"
espeak-ng -w b.wav -s 110 -p 30 "I miss the old days, everything feels so empty now"
espeak-ng -w c.wav -s 170 -p 80 "We won, we actually won the whole thing"
sox -n -r 22050 -c 1 -b 16 pause.wav trim 0 0.8
sox pause.wav a.wav pause.wav b.wav pause.wav c.wav pause.wav conversation.wav
ser() { dotnet "$here/../../../src/SpeechEmotion.Cli/bin/Release/net10.0/ser.dll" "$@"; }
ser predict --model "$model" --timeline --html timeline.html conversation.wav
ser explain --model "$model" a.wav --html explain.html
shot() { chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$work/profile" --hide-scrollbars --window-size="$2" --screenshot="$here/$1.png" "file://$work/$1.html"; }
shot timeline 1140,760
shot explain 1040,1260
