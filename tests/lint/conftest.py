"""Helpers for the linter's tests. None of them needs Django."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from async_actions.lint import Config, lint_paths

FIXTURES = Path(__file__).parent / "fixtures"
_EXPECT = re.compile(r"expect: ((?:AA\d{3}(?:, )?)+)")


def expected(*paths: Path) -> set[tuple[str, int, str]]:
    """(file name, line, code) for every `# expect: AA1xx` marker in the fixture files."""
    found = set()
    for path in paths:
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            for number, line in enumerate(file.read_text().splitlines(), start=1):
                match = _EXPECT.search(line)
                if match:
                    for code in match.group(1).split(", "):
                        found.add((file.name, number, code))
    return found


def linted(*paths: Path, config: Config | None = None) -> set[tuple[str, int, str]]:
    return {(Path(f.path).name, f.line, f.code) for f in lint_paths(paths, config or Config())}


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory, monkeypatch) -> None:
    # Each test's lint cache in its own folder, never the user's ~/.cache.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
