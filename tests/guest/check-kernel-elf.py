#!/usr/bin/env python3
"""Check that a kernel ELF boots as a PVH guest: ELF64 x86_64, a PT_NOTE
holding Xen's XEN_ELFNOTE_PHYS32_ENTRY (18) note whose 32-bit entry lies in
an executable PT_LOAD segment loaded at its physical address below 4 GiB."""
import struct
import sys

XEN_ELFNOTE_PHYS32_ENTRY = 18
PT_LOAD, PT_NOTE = 1, 4


def main(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return "not a little-endian ELF64"
    (e_type, e_machine, _, _, e_phoff, _, _, _, e_phentsize, e_phnum) = struct.unpack_from(
        "<HHIQQQIHHH", data, 16)
    if e_machine != 62:
        return f"machine {e_machine}, not x86_64"
    loads, entry = [], None
    for i in range(e_phnum):
        p_type, p_flags, p_off, p_vaddr, p_paddr, p_filesz, p_memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == PT_LOAD:
            loads.append((p_paddr, p_memsz, p_flags, p_vaddr))
        elif p_type == PT_NOTE:
            off, end = p_off, p_off + p_filesz
            while off + 12 <= end:
                namesz, descsz, ntype = struct.unpack_from("<III", data, off)
                name = data[off + 12:off + 12 + namesz]
                doff = off + 12 + ((namesz + 3) & ~3)
                if name == b"Xen\0" and ntype == XEN_ELFNOTE_PHYS32_ENTRY:
                    entry = struct.unpack_from("<I", data, doff)[0]
                off = doff + ((descsz + 3) & ~3)
    if entry is None:
        return "no Xen PHYS32_ENTRY note in a PT_NOTE segment"
    for paddr, memsz, flags, vaddr in loads:
        if paddr + memsz > 1 << 32 or paddr != vaddr:
            return f"segment at {paddr:#x} not identity-loaded below 4 GiB"
    if not any(p <= entry < p + m and f & 1 for p, m, f, _ in loads):
        return f"entry {entry:#x} not in an executable PT_LOAD segment"
    print(f"PVH entry {entry:#x}, {len(loads)} load segment(s)")
    return None


err = main(sys.argv[1])
if err:
    print(f"{sys.argv[1]}: {err}")
    sys.exit(1)
