#!/usr/bin/env bash
# Builds and runs the TorchSharp peer (benchmarks/peers/torchsharp), passing its arguments on:
#   benchmarks/peers/torchsharp.sh [--shape SEED|FRAMES|FRAMES-L|all] [--threads N] [--repetitions N]
# TorchSharp-cpu 0.107 brings libtorch 2.10 (a 600 MB NuGet download the first time). Its native shim needs
# GCC 13's libstdc++ for one symbol; on Debian 12 (GCC 12) the copy in the peer's own output folder gets that
# requirement made weak and the symbol comes from a one-line preloaded library (see weaken_version.py).
# Nothing here touches the system or the product.
set -euo pipefail
cd "$(dirname "$0")/torchsharp"
dotnet build -c Release -v quiet -nologo >/dev/null
out=bin/Release/net10.0
native=$out/runtimes/linux-x64/native
preload=""
if ! strings /lib/x86_64-linux-gnu/libstdc++.so.6 2>/dev/null | grep -qx GLIBCXX_3.4.32; then
  /usr/bin/python3 weaken_version.py "$native/libLibTorchSharp.so" GLIBCXX_3.4.32 >/dev/null
  [[ -f $out/libios_base_library_init.so ]] || gcc -shared -fPIC -O2 -o "$out/libios_base_library_init.so" ios_base_library_init.c
  preload=$PWD/$out/libios_base_library_init.so
fi
LD_PRELOAD=$preload dotnet "$out/TorchSharpPeer.dll" "$@"
