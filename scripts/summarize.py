#!/usr/bin/env python3
"""Sum up `meson test` results of several build directories.

Reads each DIR/meson-logs/testlog*.json (meson names the log after a
--wrap'ed wrapper, e.g. testlog-valgrind.json). Prints one line per directory, then
the closing line 'N passed, N failed, N skipped'. Exits non-zero if anything
failed, was skipped (a skipped test is not a pass), timed out, or if a
directory ran no test at all.
"""
import glob
import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}
total_pass = total_fail = total_skip = 0
bad = False
for d in sys.argv[1:]:
    counts = {}
    logs = sorted(glob.glob(f"{d}/meson-logs/testlog*.json"))
    if len(logs) != 1:
        print(f"{d}: expected one test log, found {len(logs)}")
        bad = True
        continue
    with open(logs[0], encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)["result"]
                counts[r] = counts.get(r, 0) + 1
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
