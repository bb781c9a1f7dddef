#!/usr/bin/env python3
"""Lists the tests ctest skipped, each with the reason it printed, from ctest's JUnit files.

Usage: skipped_tests.py JUNIT.xml...   (scripts/test.sh runs it after the suite)
"""
import re
import sys
import xml.etree.ElementTree as ET


def reason(output: str) -> str:
    """The line a skipped test gave as its reason: GoogleTest's message after "Skipped",
    else the last line that says "skip", else the last line."""
    lines = [l.strip() for l in output.splitlines() if l.strip()]
    for i, l in enumerate(lines):
        if re.search(r": Skipped$", l) and i + 1 < len(lines):
            return lines[i + 1]
    said = [l for l in lines if "skip" in l.lower() and not l.startswith("[")]
    if said:
        return said[-1]
    return lines[-1] if lines else "(no output)"


def main() -> int:
    skipped = []
    for path in sys.argv[1:]:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            print(f"skipped_tests: cannot read {path}: {e}", file=sys.stderr)
            continue
        for case in root.iter("testcase"):
            if case.find("skipped") is None and case.get("status") not in ("notrun", "disabled"):
                continue
            out = case.findtext("system-out") or ""
            skipped.append((path.rsplit("/", 2)[-2], case.get("name"), reason(out)))
    print(f"{len(skipped)} tests skipped" + (":" if skipped else ""))
    for tree, name, why in skipped:
        print(f"  [{tree}] {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
