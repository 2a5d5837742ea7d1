"""Files in newer grammar are read whatever Python runs the linter; broken files are AA000."""

from __future__ import annotations

import ast
import sys

import pytest

from async_actions.lint.parsing import parse

from .conftest import linted

NEW_SYNTAX = """\
from celery import shared_task


type Pair[T] = tuple[T, T]  # 3.12: PEP 695 alias


class Box[T]:  # 3.12: generic class
    def get[U](self, other: U) -> T | U:
        return other


def key() -> str:
    data = {"k": "v"}
    return f"{data["k"]}"  # 3.12: PEP 701 quotes reused inside an f-string


@shared_task
def waits[T](result: T):
    try:
        pass
    except ValueError, TypeError:  # 3.14: PEP 758, no parentheses
        pass
    template = t"value {result}"  # 3.14: PEP 750 t-string
    return result.delay().get()
"""


def test_newer_syntax_is_linted_on_this_python(tmp_path) -> None:
    (tmp_path / "modern.py").write_text(NEW_SYNTAX)
    if sys.version_info < (3, 14):
        with pytest.raises(SyntaxError):
            ast.parse(NEW_SYNTAX)  # the running Python alone could not read it
    # No AA000, and the rules still see the task (line numbers kept).
    assert linted(tmp_path) == {("modern.py", 24, "AA103")}


def test_each_new_construct_alone(tmp_path) -> None:
    for n, snippet in enumerate(
        [
            "type X = int\n",
            "def f[T](x: T) -> T:\n    return x\n",
            "class C[T]:\n    pass\n",
            "try:\n    pass\nexcept A, B:\n    pass\n",
            "try:\n    pass\nexcept* A, B:\n    pass\n",
            'x = f"{"a"}"\n',
            'y = t"{x!r:>{10}}" "plain"\n',
        ]
    ):
        tree = parse(snippet, f"snippet{n}.py")
        assert isinstance(tree, ast.Module) and tree.body, snippet


def test_really_broken_file_is_aa000(tmp_path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "fine.py").write_text("type X = int\n")
    assert linted(tmp_path) == {("broken.py", 1, "AA000")}


def test_valid_grammar_that_ast_rejects_is_aa000(tmp_path) -> None:
    # libcst reads `f() = 1`, CPython's compiler does not: still reported, with its message.
    (tmp_path / "assign.py").write_text("f() = 1\n")
    assert linted(tmp_path) == {("assign.py", 1, "AA000")}
