#!/usr/bin/env python3
"""Partial-link libxfconsole.a with only the primary console and early-output
entry points, as a kernel using just those would, and check that no object
needing libxenbus or libgnttab came along.

Usage: check_primary_only.py LD NM LIBCONSOLE.a OUT.o
"""
import re
import subprocess
import sys

ENTRY = [
    "xf_console_hvm_params", "xf_console_create", "xf_console_destroy",
    "xf_console_write", "xf_console_write_all", "xf_console_flush",
    "xf_console_out_pending", "xf_console_read", "xf_console_poll",
    "xf_console_status", "xf_console_port", "xf_console_early_write",
]


def main():
    ld, nm, archive, out = sys.argv[1:5]
    args = [ld, "-r", "-o", out]
    for sym in ENTRY:
        args += ["-u", sym]
    subprocess.run(args + [archive], check=True)
    syms = subprocess.run([nm, "--format=posix", out], check=True,
                          capture_output=True, text=True).stdout
    defined = {l.split()[0] for l in syms.splitlines() if len(l.split()) > 1 and l.split()[1] != "U"}
    undefined = {l.split()[0] for l in syms.splitlines() if len(l.split()) > 1 and l.split()[1] == "U"}
    missing = [s for s in ENTRY if s not in defined]
    bad = sorted(s for s in undefined if re.match(r"xf_(xenbus|gnttab)_", s))
    pulled = sorted(s for s in defined if s.startswith("xf_console_secondary"))
    if missing or bad or pulled:
        print("entry points missing: %s" % missing)
        print("XenBus/grant-table symbols needed: %s" % bad)
        print("secondary objects pulled: %s" % pulled)
        return 1
    print("primary console and early output link without libxenbus and libgnttab")
    return 0


if __name__ == "__main__":
    sys.exit(main())
