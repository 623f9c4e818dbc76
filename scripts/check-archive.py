#!/usr/bin/env python3
"""Pick-and-link check of one xenfront static library, from the archive itself.

A kernel author links one library (and what it declares it depends on) and
writes the platform seam. That only works if, in the archive:

  (a) every undefined symbol is defined by a declared dependency's archive,
      is a platform-seam function (xf_plat_*, as declared in
      common/include/xenfront/platform.h), or is one of a short fixed list of
      memory/string functions and the stack-protector hooks (with --hosted,
      for the hosted flavours only, also the linker-defined
      _GLOBAL_OFFSET_TABLE_); and
  (b) every global symbol it defines carries the library's prefix, and none is
      a seam function (the embedder defines those).

Usage: check-archive.py --nm NM --platform-h PATH --prefix xf_evtchn_
                        [--hosted] ARCHIVE [--dep DEP_ARCHIVE ...]
Exit status 0 when both rules hold, 1 with a report otherwise.
"""
import argparse
import re
import subprocess
import sys

# The C library functions a library may call (xenfront/base.h), bcmp (clang
# turns memcmp(...) == 0 into it on some targets; Linux and other kernels
# provide it), and the compiler's stack-protector hooks (built with
# -mstack-protector-guard=global).
ALLOWED_EXTERNAL = {
    "memcpy", "memmove", "memset", "memcmp", "bcmp", "strlen",
    "__stack_chk_fail", "__stack_chk_guard",
}

# Hosted flavours only (--hosted): gcc's default position-independent code
# refers to the GOT by name, and every ELF linker defines that symbol itself
# when a GOT is used, so a hosted embedder never provides it. A freestanding
# archive (-fno-pic) naming it has position-independent code a kernel did not
# ask for, and stays rejected.
LINKER_DEFINED_HOSTED = {"_GLOBAL_OFFSET_TABLE_"}


def nm_symbols(nm, archive):
    """Return (defined_globals, undefined) symbol name sets of an archive."""
    out = subprocess.run([nm, "--format=posix", "--defined-only", "--extern-only", archive],
                         check=True, capture_output=True, text=True).stdout
    defined = set()
    for line in out.splitlines():
        parts = line.split()
        # posix format: "name type value size"; archive member headers end in ':'
        if len(parts) >= 2 and not parts[0].endswith(":") and not line.endswith(":"):
            defined.add(parts[0])
    out = subprocess.run([nm, "--format=posix", "--undefined-only", archive],
                         check=True, capture_output=True, text=True).stdout
    undefined = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] in ("U", "w", "v") and not line.endswith(":"):
            undefined.add(parts[0])
    return defined, undefined


def seam_functions(platform_h):
    text = open(platform_h, encoding="utf-8").read()
    return set(re.findall(r"\b(xf_plat_[A-Za-z0-9_]+)\s*\(", text))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--platform-h", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--dep", action="append", default=[])
    ap.add_argument("--hosted", action="store_true",
                    help="hosted flavour: also accept the linker-defined " +
                    ", ".join(sorted(LINKER_DEFINED_HOSTED)))
    ap.add_argument("--expect-violation", choices=["undefined", "prefix", "seam"],
                    help="self-test: succeed only if the archive breaks exactly this rule")
    ap.add_argument("archive")
    a = ap.parse_args()

    seam = seam_functions(a.platform_h)
    if not seam:
        print(f"no xf_plat_ functions found in {a.platform_h}")
        return 1
    defined, undefined = nm_symbols(a.nm, a.archive)
    dep_defined = set()
    for dep in a.dep:
        d, _ = nm_symbols(a.nm, dep)
        dep_defined |= d

    allowed = ALLOWED_EXTERNAL | (LINKER_DEFINED_HOSTED if a.hosted else set())
    errors = []  # (rule, message)
    for sym in sorted(undefined - defined):
        if sym in dep_defined or sym in seam or sym in allowed:
            continue
        errors.append(("undefined", "undefined symbol not from a declared dependency, "
                       f"the seam or the allowed list: {sym}"))
    for sym in sorted(defined):
        if sym in seam:
            errors.append(("seam", f"defines a platform-seam function (the embedder's): {sym}"))
        elif not sym.startswith(a.prefix):
            errors.append(("prefix", f"defined global symbol without prefix {a.prefix}: {sym}"))
    if not defined:
        errors.append(("empty", "archive defines no global symbol"))

    if a.expect_violation:
        for _, e in errors:
            print("  " + e)
        rules = {r for r, _ in errors}
        if rules == {a.expect_violation}:
            print(f"rejected as expected (rule: {a.expect_violation})")
            return 0
        print(f"expected exactly a '{a.expect_violation}' violation, got {sorted(rules) or 'none'}")
        return 1

    name = a.archive.rsplit("/", 1)[-1]
    if errors:
        print(f"{name}: FAIL")
        for _, e in errors:
            print("  " + e)
        return 1
    print(f"{name}: ok ({len(defined)} symbols defined, "
          f"{len(undefined - defined)} external references)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
