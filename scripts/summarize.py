#!/usr/bin/env python3
"""Sum up `meson test` results of several build directories.

Reads each DIR/meson-logs/testlog.json. Prints one line per directory, then
the closing line 'N passed, N failed, N skipped'. Exits non-zero if anything
failed, was skipped (a skipped test is not a pass), timed out, or if a
directory ran no test at all.
"""
import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}
total_pass = total_fail = total_skip = 0
bad = False
for d in sys.argv[1:]:
    counts = {}
    try:
        with open(f"{d}/meson-logs/testlog.json", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)["result"]
                    counts[r] = counts.get(r, 0) + 1
    except FileNotFoundError:
        print(f"{d}: no test log")
        bad = True
        continue
    p = sum(v for k, v in counts.items() if k in PASS)
    s = counts.get("SKIP", 0)
    fl = sum(v for k, v in counts.items() if k not in PASS and k != "SKIP")
    total_pass += p
    total_fail += fl
    total_skip += s
    print(f"{d}: {p} passed, {fl} failed, {s} skipped")
    if p == 0:
        bad = True
print(f"{total_pass} passed, {total_fail} failed, {total_skip} skipped")
sys.exit(1 if bad or total_fail or total_skip else 0)
