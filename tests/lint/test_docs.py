"""docs/lint.md stays true: every rule has a Bad and a Good example, and both behave."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from async_actions.lint import RULES, lint_paths

DOC = Path(__file__).resolve().parents[2] / "docs" / "lint.md"
_SECTION = re.compile(r"^### (AA\d{3}) ", re.M)
_BLOCK = re.compile(r"^(Bad|Good)[^\n]*:\n```python\n(.*?)^```", re.M | re.S)


def _examples() -> dict[str, dict[str, str]]:
    text = DOC.read_text()
    starts = list(_SECTION.finditer(text))
    out: dict[str, dict[str, str]] = {}
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[match.start() : end]
        out[match.group(1)] = {kind: code for kind, code in _BLOCK.findall(body)}
    return out


def test_every_rule_is_documented_with_both_examples() -> None:
    examples = _examples()
    assert sorted(examples) == sorted(RULES)
    for code, blocks in examples.items():
        assert set(blocks) == {"Bad", "Good"}, code


@pytest.mark.parametrize("code", sorted(RULES))
def test_bad_example_is_reported_and_good_one_is_clean(code: str, tmp_path) -> None:
    blocks = _examples()[code]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "example.py").write_text(blocks["Bad"])
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "example.py").write_text(blocks["Good"])
    assert {f.code for f in lint_paths([tmp_path / "bad"])} == {code}
    assert lint_paths([tmp_path / "good"]) == []
