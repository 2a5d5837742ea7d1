"""Output formats: text (ruff/flake8 style), JSON, and GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Callable

from async_actions.lint.findings import Finding
from async_actions.lint.rules import RULES


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(findings: list[Finding], files: int) -> str:
    if not findings:
        return f"No problems found in {_plural(files, 'file')}."
    # Every rule is an error: anything found fails the run.
    return (
        f"Found {_plural(len(findings), 'problem')} "
        f"({_plural(len(findings), 'error')}) in {_plural(files, 'file')}."
    )


def text(findings: list[Finding], files: int) -> str:
    lines = [f"{f.path}:{f.line}:{f.col}: {f.code} {f.message}" for f in findings]
    return "\n".join([*lines, summary(findings, files)])


def as_json(findings: list[Finding], files: int) -> str:
    return json.dumps(
        {
            "files": files,
            "findings": [
                {**f.as_dict(), "title": RULES.get(f.code, "syntax error")} for f in findings
            ],
        },
        indent=2,
    )


def _escape(value: str, *, prop: bool = False) -> str:
    # GitHub's workflow-command escaping.
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def github(findings: list[Finding], files: int) -> str:
    lines = [
        f"::error file={_escape(f.path, prop=True)},line={f.line},col={f.col},"
        f"title={f.code}::{_escape(f'{f.code} {f.message}')}"
        for f in findings
    ]
    return "\n".join([*lines, summary(findings, files)])


FORMATS: dict[str, Callable[[list[Finding], int], str]] = {
    "text": text,
    "json": as_json,
    "github": github,
}
