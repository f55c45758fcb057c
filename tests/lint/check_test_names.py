#!/usr/bin/env python3
"""Catch2 test names reach CTest through catch_discover_tests, which keeps them in a CMake
list: a ';' in a name splits it into fragments that match no test, so the test silently never
runs (five did not, before this check). Fails, naming file:line, for any such name."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parents[2]
name_re = re.compile(r'TEST_CASE\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
bad = []
for path in sorted(root.glob("tests/**/*.cc")):
    text = path.read_text(encoding="utf-8")
    for m in name_re.finditer(text):
        name = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
        if ";" in name:
            line = text.count("\n", 0, m.start()) + 1
            bad.append(f"{path.relative_to(root)}:{line}: {name}")
if bad:
    print("test names with ';' never run under CTest (use ',' instead):")
    print("\n".join(bad))
    sys.exit(1)
print("test names: none holds a ';'")
