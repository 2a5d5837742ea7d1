"""Lint a set of paths: walk every file once (optionally in parallel), then the project rules."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from async_actions.lint.analyzer import analyze_file
from async_actions.lint.config import Config
from async_actions.lint.files import discover
from async_actions.lint.findings import Finding
from async_actions.lint.index import ModuleSummary, ProjectIndex
from async_actions.lint.rules.reach import check_reach
from async_actions.lint.rules.workflow import check_project


@dataclass
class Result:
    findings: list[Finding]
    files: int


def _analyze(config: Config, path: Path) -> tuple[list[Finding], ModuleSummary]:
    return analyze_file(path, config)


def run(paths: Iterable[str | os.PathLike[str]], config: Config) -> Result:
    files = list(discover(paths, config.excludes()))
    work = partial(_analyze, config)
    if config.jobs > 1 and len(files) > 200:
        # Only the small summaries cross process boundaries, never the ASTs.
        with ProcessPoolExecutor(config.jobs) as pool:
            results = list(pool.map(work, files, chunksize=64))
    else:
        results = [work(path) for path in files]
    findings = [f for per_file, _ in results for f in per_file]
    index = ProjectIndex(summary for _, summary in results)
    findings += check_project(index, config)
    findings += check_reach(index, config)
    return Result(sorted(set(findings)), len(files))
