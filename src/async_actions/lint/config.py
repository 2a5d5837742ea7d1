"""Lint settings: defaults, `[tool.async-actions.lint]` in pyproject.toml, then the command line."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_EXCLUDES = (
    "migrations",
    ".venv",
    "venv",
    ".git",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    ".tox",
)
# Keyword arguments that carry a report / tracking id (AA107); `*_report_id` matches too.
DEFAULT_TRACKING_KWARGS = ("async_action_report_id", "report_id", "tracking_id")


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "async-actions-lint")


class ConfigError(ValueError):
    """The configuration names an unknown option or has a value of the wrong type."""


@dataclass(frozen=True)
class Config:
    select: frozenset[str] = frozenset()  # empty: every rule
    ignore: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    max_task_statements: int = 30
    tracking_kwargs: tuple[str, ...] = DEFAULT_TRACKING_KWARGS
    # Extra decorator names (last dotted part) that make a function a task, e.g. a project's
    # own `retryable_task` wrapper around `shared_task`.
    task_decorators: tuple[str, ...] = ()
    chainable_decorators: tuple[str, ...] = ("chainable",)
    jobs: int = 1
    # How many calls deep the project-wide rules follow a task's helpers (AA101-AA103).
    max_call_depth: int = 3
    # Per-file results cached by content between runs; "" turns the cache off.
    cache_dir: str = field(default_factory=lambda: default_cache_dir())

    def enabled(self, code: str) -> bool:
        if any(code.startswith(prefix) for prefix in self.ignore):
            return False
        return not self.select or any(code.startswith(prefix) for prefix in self.select)

    def excludes(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude

    def is_tracking_kwarg(self, name: str) -> bool:
        return name in self.tracking_kwargs or name.endswith("_report_id")


_LIST_KEYS = {
    "select": frozenset,
    "ignore": frozenset,
    "exclude": tuple,
    "extend-exclude": tuple,
    "tracking-kwargs": tuple,
    "task-decorators": tuple,
    "chainable-decorators": tuple,
}
_INT_KEYS = {"max-task-statements", "jobs", "max-call-depth"}
_STR_KEYS = {"cache-dir"}
_CODE = re.compile(r"^AA\d{0,3}$")


def from_mapping(data: dict[str, Any], base: Config | None = None) -> Config:
    """Build a Config from pyproject-style keys (`max-task-statements = 40`)."""
    changes: dict[str, Any] = {}
    for key, value in data.items():
        attr = key.replace("-", "_")
        if key in _LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"`{key}` must be a list of strings, got {value!r}")
            changes[attr] = _LIST_KEYS[key](value)
        elif key in _INT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"`{key}` must be a positive integer, got {value!r}")
            changes[attr] = value
        elif key in _STR_KEYS:
            if not isinstance(value, str):
                raise ConfigError(f"`{key}` must be a string, got {value!r}")
            changes[attr] = value
        else:
            known = ", ".join(sorted([*_LIST_KEYS, *_INT_KEYS, *_STR_KEYS]))
            raise ConfigError(
                f"unknown option `{key}` in [tool.async-actions.lint]; known: {known}"
            )
    for code in changes.get("select", frozenset()) | changes.get("ignore", frozenset()):
        if not _CODE.match(code):
            raise ConfigError(f"`{code}` is not a rule code or prefix (AA101, AA1, ...)")
    return replace(base or Config(), **changes)


def find_pyproject(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load(start: Path | None = None, pyproject: Path | None = None) -> Config:
    """Read `[tool.async-actions.lint]` from the nearest pyproject.toml (defaults if none)."""
    path = pyproject or find_pyproject((start or Path.cwd()).resolve())
    if path is None:
        return Config()
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    section = data.get("tool", {}).get("async-actions", {}).get("lint", {})
    return from_mapping(section)
