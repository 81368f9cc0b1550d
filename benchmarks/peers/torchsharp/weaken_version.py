#!/usr/bin/python3
"""Marks one symbol-version requirement of an ELF64 (little-endian) shared object as weak, in place.

TorchSharp 0.107's libLibTorchSharp.so was built with GCC 13 and requires libstdc++'s GLIBCXX_3.4.32 for a
single symbol, std::ios_base_library_init() (GCC 13's way of making <iostream> initialise). Debian 12 ships
GCC 12's libstdc++ (GLIBCXX_3.4.30), so the loader refuses the library. With the requirement weak
(VER_FLG_WEAK in its Elf64_Vernaux entry) a missing version is no longer fatal, and torchsharp.sh preloads a
one-line definition of that symbol (ios_base_library_init.c). Usage: weaken_version.py LIBRARY VERSION
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2

path, wanted = sys.argv[1], sys.argv[2].encode()
data = bytearray(open(path, "rb").read())
if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
    sys.exit(f"{path}: not a 64-bit little-endian ELF file")
section_offset, = struct.unpack_from("<Q", data, 0x28)
entry_size, count = struct.unpack_from("<HH", data, 0x3A)
# Elf64_Shdr: name, type, flags, addr, offset, size, link, info, addralign, entsize
sections = [struct.unpack_from("<IIQQQQIIQQ", data, section_offset + n * entry_size) for n in range(count)]
changed = 0
for _, kind, _, _, offset, _, link, needed_files, _, _ in sections:
    if kind != SHT_GNU_VERNEED:
        continue
    strings = sections[link][4]
    name = lambda at: bytes(data[strings + at:data.index(0, strings + at)])
    file_entry = offset
    for _ in range(needed_files):
        _, aux_count, file_name, aux, next_file = struct.unpack_from("<HHIII", data, file_entry)  # Elf64_Verneed
        aux_entry = file_entry + aux
        for _ in range(aux_count):
            _, flags, _, version_name, next_aux = struct.unpack_from("<IHHII", data, aux_entry)  # Elf64_Vernaux
            if name(version_name) == wanted and not flags & VER_FLG_WEAK:
                struct.pack_into("<H", data, aux_entry + 4, flags | VER_FLG_WEAK)
                print(f"{path}: {wanted.decode()} of {name(file_name).decode()} is now a weak requirement")
                changed += 1
            aux_entry += next_aux
        file_entry += next_file
if changed:
    open(path, "wb").write(data)
else:
    print(f"{path}: no strong requirement of {wanted.decode()} (already weak, or not needed)")
