"""docs/testing.md as written: its files go into a fresh sample project, and its tests pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.readme_blocks import blocks_of
from tests.testing.sample_project import write_project

pytest_plugins = ["pytester"]

PAGE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def test_the_testing_page_runs_as_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    write_project(pytester, tasks="")
    pytester.path.joinpath("pytest.ini").unlink()  # the page's pyproject.toml instead
    files = [block for block in blocks_of(PAGE) if block.file is not None]
    assert {block.file["path"] for block in files} >= {
        "pyproject.toml",
        "shop/tasks.py",
        "shop/conftest.py",
        "shop/test_on_a_worker.py",
        "shop/test_eagerly.py",
        "shop/test_views.py",
        "shop/test_validation.py",
    }
    for block in files:
        target = pytester.path / block.file["path"]
        target.write_text(block.source.split("\n", 1)[1])

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=6)
