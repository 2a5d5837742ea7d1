"""Every code block in README.md and docs/ is an example the test suite runs (Sybil).

- ```python blocks run in order, one namespace per page, with a test database and the tasks
  of tests/docs_support.py. Blocks whose first line names a file of the reader's project
  (`# proj/celery.py`, `# shop/test_views.py`) or `# python manage.py shell` are compiled
  here and run for real by the tests that build that project: tests/test_quickstart.py
  (README) and tests/testing/test_docs_testing.py (docs/testing.md). docs/lint.md's blocks
  are linter input, checked rule by rule by tests/lint/test_docs.py: compiled here.
- ```toml and ```json blocks must parse; ```yaml blocks must name hooks that
  .pre-commit-hooks.yaml has; in ```console blocks `make` targets must exist and `python -m`
  modules must import (the Quickstart's commands are run by tests/test_quickstart.py);
  ```text blocks are output, shown as printed (tests/testing/test_plugin.py checks those).
- A block that cannot run is marked, with the reason, by `<!-- skip: next "why" -->`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

from sybil import Example, Region, Sybil
from sybil.parsers.markdown import SkipParser
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

ROOT = Path(__file__).resolve().parent
FILE_LINE = re.compile(r"^# ([\w./-]+\.(py|toml|ini|cfg))( - add at the end)?$|^# python manage")


def _python(example: Example) -> None:
    source = str(example.parsed)
    first_line = source.split("\n", 1)[0]
    if FILE_LINE.match(first_line) or example.path.endswith("lint.md"):
        compile(source, f"{example.path}:{example.line}", "exec")
        return
    code = compile(source, f"{example.path}:{example.line}", "exec")
    exec(code, example.namespace)  # noqa: S102  (the documentation's own examples)


def _console(example: Example) -> None:
    """`make` targets must exist and `python -m` modules must be importable."""
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    for line in str(example.parsed).splitlines():
        if not line.startswith("$ "):
            continue
        for command in re.split(r"&&|\|", line[2:].split("#", 1)[0]):
            words = [w for w in shlex.split(command) if not re.match(r"^[A-Z_]+=", w)]
            if words[:1] == ["make"]:
                assert set(words[1:2]) <= targets, f"No make target {words[1]!r}: {line}"
            if words[:2] == ["python", "-m"] and words[2] not in {"venv", "pip", "pytest"}:
                assert importlib.util.find_spec(words[2]), f"No module {words[2]!r}: {line}"


def _yaml(example: Example) -> None:
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    for hook in re.findall(r"id:\s*([\w-]+)", str(example.parsed)):
        assert f"- id: {hook}\n" in hooks, f"No pre-commit hook {hook!r}"


EVALUATORS = {
    "python": _python,
    "toml": lambda example: tomllib.loads(str(example.parsed)),
    "console": _console,
    "bash": _console,
    "shell": _console,
    "json": lambda example: json.loads(str(example.parsed)),
    "yaml": _yaml,
    "text": lambda example: None,
}


def _evaluate(example: Example) -> None:
    language = example.region.lexemes["language"]
    if language not in EVALUATORS:
        raise AssertionError(
            f"A ```{language or '(no language)'} block cannot be checked: give it one of "
            f'{sorted(EVALUATORS)}, or mark it <!-- skip: next "why it cannot run" -->.'
        )
    EVALUATORS[language](example)


def _code_blocks(document: Any) -> list[Region]:
    lexer = FencedCodeBlockLexer(language=r"[\w-]*")
    regions = []
    for lexed in lexer(document):
        region = Region(lexed.start, lexed.end, lexed.lexemes["source"], _evaluate)
        region.lexemes = lexed.lexemes
        regions.append(region)
    return regions


def _setup(namespace: dict[str, Any]) -> None:
    import tests.celery_app  # noqa: F401  (the app the tasks bind to: it has a result backend)
    from tests import docs_support

    namespace.update(
        {name: getattr(docs_support, name) for name in dir(docs_support) if name[0] != "_"}
    )
    namespace.update(
        _fetch=docs_support._fetch, _store=docs_support._store, _summary=docs_support._summary
    )
    namespace["ids"] = [1, 2, 3]  # the README's workflow example: some account ids


pytest_collect_file = Sybil(
    parsers=[_code_blocks, SkipParser()],
    patterns=["README.md", "docs/*.md"],
    setup=_setup,
    fixtures=["db"],
).pytest()


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Keep each page's examples in page order: they share a namespace, and a skip marker
    applies to the block after it. (pytest-randomly shuffles every module's items first.)"""
    slots = [index for index, item in enumerate(items) if hasattr(item, "example")]
    in_page_order = sorted(
        (items[index] for index in slots),
        key=lambda item: (str(item.example.path), item.example.start),
    )
    for index, item in zip(slots, in_page_order, strict=True):
        items[index] = item
