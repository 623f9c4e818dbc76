#!/usr/bin/env python3
"""Sum up `meson test` results of several build directories.

Reads each DIR/meson-logs/testlog*.json (meson names the log after a
--wrap'ed wrapper, e.g. testlog-valgrind.json). Prints one line per directory, then
the closing line 'N passed, N failed, N skipped'. Exits non-zero if anything
failed, was skipped (a skipped test is not a pass), timed out, or if a
directory ran no test at all. Each test that did not pass is named with its
result, duration and its failing TAP lines, so the tail of a CI log says
what broke.
"""
import glob
import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}
total_pass = total_fail = total_skip = 0
bad = False
for d in sys.argv[1:]:
    counts = {}
    failed = []
    logs = sorted(glob.glob(f"{d}/meson-logs/testlog*.json"))
    if len(logs) != 1:
        print(f"{d}: expected one test log, found {len(logs)}")
        bad = True
        continue
    with open(logs[0], encoding="utf-8") as f:
        for line in f:
            if line.strip():
                t = json.loads(line)
                r = t["result"]
                counts[r] = counts.get(r, 0) + 1
                if r not in PASS:
                    failed.append(t)
    p = sum(v for k, v in counts.items() if k in PASS)
    s = counts.get("SKIP", 0)
    fl = sum(v for k, v in counts.items() if k not in PASS and k != "SKIP")
    total_pass += p
    total_fail += fl
    total_skip += s
    print(f"{d}: {p} passed, {fl} failed, {s} skipped")
    for t in failed:
        print(f"  {t['result']}: {t['name']} ({t.get('duration', 0):.1f} s)")
        out = (t.get("stdout") or "").splitlines()
        bad_lines = [l for l in out if l.startswith("not ok") or "ERROR SUMMARY" in l
                     or "Timeout" in l or "signal" in l]
        for l in bad_lines[:8]:
            print(f"    {l[:200]}")
    if p == 0:
        bad = True
print(f"{total_pass} passed, {total_fail} failed, {total_skip} skipped")
sys.exit(1 if bad or total_fail or total_skip else 0)
