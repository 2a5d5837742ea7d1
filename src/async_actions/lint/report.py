"""Output formats: text (ruff/flake8 style), JSON, GitHub workflow annotations and SARIF."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import PurePath

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


def _uri(path: str) -> str:
    # Relative to where the linter ran (the repository root in CI), with forward slashes,
    # as GitHub code scanning matches results to files.
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return PurePath(path if rel.startswith("..") else rel).as_posix()


def sarif(findings: list[Finding], files: int) -> str:
    """SARIF 2.1.0, the format GitHub code scanning uploads (codeql-action/upload-sarif)."""
    from async_actions import __version__

    codes = {"AA000": "the file cannot be parsed", **RULES}
    rules = [
        {
            "id": code,
            "name": code,
            "shortDescription": {"text": title},
            "fullDescription": {"text": title},
            "help": {
                "text": f"{code}: {title}. Bad and good examples: docs/lint.md#{code.lower()}"
            },
            "defaultConfiguration": {"level": "error"},
        }
        for code, title in codes.items()
    ]
    index = {code: i for i, code in enumerate(codes)}
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": "error",
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.line, "startColumn": f.col},
                    }
                }
            ],
        }
        for f in findings
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "async-actions-lint",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2)


FORMATS: dict[str, Callable[[list[Finding], int], str]] = {
    "text": text,
    "json": as_json,
    "github": github,
    "sarif": sarif,
}
