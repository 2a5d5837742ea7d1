"""docs/lint.md stays true: every rule has a Bad and a Good example, and both behave."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from async_actions.lint import RULES, lint_paths

DOC = Path(__file__).resolve().parents[2] / "docs" / "lint.md"
_SECTION = re.compile(r"^### (AA\d{3}) ", re.M)
_BLOCK = re.compile(r"^(Bad|Good)[^\n]*:\n```python\n(.*?)^```", re.M | re.S)


def _examples() -> dict[str, dict[str, list[str]]]:
    text = DOC.read_text()
    starts = list(_SECTION.finditer(text))
    out: dict[str, dict[str, list[str]]] = {}
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[match.start() : end]
        blocks: dict[str, list[str]] = {}
        for kind, code in _BLOCK.findall(body):
            blocks.setdefault(kind, []).append(code)
        out[match.group(1)] = blocks
    return out


def test_every_rule_is_documented_with_both_examples() -> None:
    examples = _examples()
    assert sorted(examples) == sorted(RULES)
    for code, blocks in examples.items():
        assert set(blocks) == {"Bad", "Good"}, code


def _cases() -> list[tuple[str, str, int]]:
    return [
        (code, kind, n)
        for code, blocks in sorted(_examples().items())
        for kind, codes in sorted(blocks.items())
        for n in range(len(codes))
    ]


@pytest.mark.parametrize(("code", "kind", "n"), _cases())
def test_bad_examples_are_reported_and_good_ones_are_clean(
    code: str, kind: str, n: int, tmp_path
) -> None:
    (tmp_path / "example.py").write_text(_examples()[code][kind][n])
    found = {f.code for f in lint_paths([tmp_path])}
    assert found == ({code} if kind == "Bad" else set())
