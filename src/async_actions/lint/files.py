"""Which files to lint: every `*.py` under the given paths, minus excluded names and globs."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from fnmatch import fnmatch
from pathlib import Path


def _excluded(name: str, rel: str, patterns: Iterable[str]) -> bool:
    # A pattern matches a file or folder name (`migrations`) or a relative path glob
    # (`*/legacy/*`), like flake8's --exclude.
    return any(fnmatch(name, p) or fnmatch(rel, p) for p in patterns)


def discover(paths: Iterable[str | os.PathLike[str]], excludes: Iterable[str]) -> Iterator[Path]:
    patterns = tuple(excludes)
    for raw in paths:
        root = Path(raw)
        if root.is_file():
            # An explicitly named file is linted even if a pattern would exclude it,
            # which is what pre-commit needs when it passes changed files.
            yield root
            continue
        for folder, dirs, names in os.walk(root):
            # Prune in place so excluded trees (.venv, node_modules) are never walked.
            dirs[:] = sorted(d for d in dirs if not _excluded(d, os.path.join(folder, d), patterns))
            for name in sorted(names):
                full = os.path.join(folder, name)
                if name.endswith(".py") and not _excluded(name, full, patterns):
                    yield Path(full)
