"""A static checker for Celery anti-patterns in Django projects (codes AA101-AA108).

`ast` (libcst for newer grammar): it never imports Django or the code it checks.

    from async_actions.lint import Config, lint_paths
    for finding in lint_paths(["src/"], Config()):
        print(finding)
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from async_actions.lint.config import Config, ConfigError
from async_actions.lint.config import load as load_config
from async_actions.lint.findings import SYNTAX_ERROR, Finding
from async_actions.lint.rules import RULES

__all__ = [
    # running
    "lint_paths",
    "load_config",
    # data
    "Config",
    "ConfigError",
    "Finding",
    "RULES",
    "SYNTAX_ERROR",
]


def lint_paths(
    paths: Iterable[str | os.PathLike[str]], config: Config | None = None
) -> list[Finding]:
    """Every finding in the `.py` files under `paths`, sorted by path and line."""
    from async_actions.lint.engine import run  # keeps `import async_actions.lint` light

    return run(paths, config or Config()).findings
