"""flake8 entry point (`AA` codes), for teams whose CI already runs flake8.

flake8 hands plugins one file at a time, but AA101/AA106 need the whole project: the index
of the current directory is built once per flake8 process, on the first file, and reused.
The standalone `async-actions lint` is faster on big trees (one walk per file, not two).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from async_actions import __version__
from async_actions.lint.analyzer import analyze_file, analyze_source
from async_actions.lint.config import Config, load
from async_actions.lint.files import discover
from async_actions.lint.findings import Finding
from async_actions.lint.index import ProjectIndex
from async_actions.lint.rules.reach import check_reach
from async_actions.lint.rules.workflow import check_project


@cache
def _config() -> Config:
    return load(Path.cwd())


@cache
def _project_findings(root: str) -> dict[str, list[Finding]]:
    config = _config()
    summaries = [analyze_file(p, config)[1] for p in discover([root], config.excludes())]
    by_path: dict[str, list[Finding]] = {}
    index = ProjectIndex(summaries)
    for finding in [*check_project(index, config), *check_reach(index, config)]:
        by_path.setdefault(os.path.abspath(finding.path), []).append(finding)
    return by_path


class Plugin:
    name = "async-actions-lint"
    version = __version__

    def __init__(self, tree: ast.Module, filename: str, lines: list[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        config = _config()
        findings, _ = analyze_source("".join(self.lines), self.filename, config, self.tree)
        findings += _project_findings(os.getcwd()).get(os.path.abspath(self.filename), [])
        for f in findings:
            # flake8 columns are 0-based; flake8 applies noqa comments itself as well.
            yield f.line, f.col - 1, f"{f.code} {f.message}", type(self)
