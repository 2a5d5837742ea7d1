"""Suppression comments, per line: bare `noqa`, or `noqa: AA101,AA102`."""

from __future__ import annotations

import re

# As flake8 reads it: codes are letters then digits; anything after them is prose.
_NOQA = re.compile(r"#\s*(?i:noqa)(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?")

# line number -> codes silenced there; None means every code (a bare noqa comment).
NoqaMap = dict[int, frozenset[str] | None]


def parse(source: str) -> NoqaMap:
    found: NoqaMap = {}
    if "noqa" not in source and "NOQA" not in source:
        return found  # the common case: skip the per-line scan
    for number, line in enumerate(source.splitlines(), start=1):
        if "#" not in line:
            continue
        match = _NOQA.search(line)
        if match is None:
            continue
        codes = match.group("codes")
        found[number] = (
            None if codes is None else frozenset(c for c in re.split(r"[,\s]+", codes) if c)
        )
    return found


def silenced(noqa: NoqaMap, line: int, code: str) -> bool:
    if line not in noqa:
        return False
    codes = noqa[line]
    return codes is None or code in codes
