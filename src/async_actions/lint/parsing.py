"""Parse a file whatever Python runs the linter: `ast` first, libcst for newer grammar.

`ast` only reads the grammar of the running Python, so on 3.11 a file with PEP 695 generics,
`type X = ...`, 3.12 f-strings or 3.14's `except A, B:` would not parse. When `ast` fails,
libcst (which reads Python 3.0-3.14 grammar whatever runs it) parses the file, the few
constructs the running `ast` cannot hold are rewritten to their nearest older spelling
(the rules never look at type parameters or string parts), and `ast` reads the result.
Line numbers are kept. A file that libcst cannot parse either is really broken: AA000.
"""

from __future__ import annotations

import ast
from typing import Any

try:  # an extra (`async-actions[lint]`): without it only the running Python's grammar is read
    import libcst as cst
except ImportError:  # pragma: no cover - the test environment installs it
    cst = None  # type: ignore[assignment]


def parse(source: str, path: str) -> ast.Module:
    """The module's AST; SyntaxError (with line and message) when the file is broken."""
    try:
        return ast.parse(source, filename=path)
    except SyntaxError as first:
        if cst is None:
            first.msg = f"{first.msg} (install `django-async-actions[lint]` to read newer syntax)"
            raise
        try:
            downgraded = _downgrade(source)
        except (cst.ParserSyntaxError, RecursionError, ValueError):
            raise first from None  # broken in every grammar: CPython's message is the clearer
        try:
            return ast.parse(downgraded, filename=path)
        except SyntaxError:
            raise first from None  # valid grammar but not for `ast` (e.g. a bad assignment)


def _downgrade(source: str) -> str:
    module = cst.parse_module(source)
    return str(module.visit(_Downgrade()).code)


if cst is not None:

    def _paren(node: Any) -> Any:
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])

    class _Downgrade(cst.CSTTransformer):
        """Newer constructs to older ones with the same names in them, on the same lines."""

        def leave_FunctionDef(self, original: Any, updated: Any) -> Any:
            return updated.with_changes(type_parameters=None)  # def f[T](...) -> def f(...)

        def leave_ClassDef(self, original: Any, updated: Any) -> Any:
            return updated.with_changes(type_parameters=None)

        def leave_TypeAlias(self, original: Any, updated: Any) -> Any:
            # `type X[T] = ...` -> `X = ...`
            return cst.Assign(targets=[cst.AssignTarget(target=updated.name)], value=updated.value)

        def leave_ExceptHandler(self, original: Any, updated: Any) -> Any:
            # PEP 758: `except A, B:` -> `except (A, B):`
            kind = updated.type
            if isinstance(kind, cst.Tuple) and not kind.lpar:
                return updated.with_changes(type=_paren(kind))
            return updated

        def leave_ExceptStarHandler(self, original: Any, updated: Any) -> Any:
            kind = updated.type
            if isinstance(kind, cst.Tuple) and not kind.lpar:
                return updated.with_changes(type=_paren(kind))
            return updated

        # f-strings with nested quotes (PEP 701) and t-strings (PEP 750): keep only the
        # expressions, as a tuple, so the names and calls in them still count. Children are
        # not visited first (a rewritten part cannot sit in a concatenation); each kept
        # expression is rewritten on its own.
        def _strings(self, node: Any) -> list[Any]:
            if isinstance(node, cst.ConcatenatedString):
                return [*self._strings(node.left), *self._strings(node.right)]
            return [node]

        def _expressions(self, node: Any) -> Any:
            strings = self._strings(node)
            if all(isinstance(s, cst.SimpleString) for s in strings):
                return node
            exprs = [
                cst.Element(part.expression.visit(self))
                for s in strings
                for part in getattr(s, "parts", ())
                if hasattr(part, "expression")
            ]
            return cst.Tuple(elements=[*exprs, cst.Element(cst.SimpleString('""'))])

        def visit_ConcatenatedString(self, node: Any) -> bool:
            return False

        def visit_FormattedString(self, node: Any) -> bool:
            return False

        def visit_TemplatedString(self, node: Any) -> bool:
            return False

        def leave_ConcatenatedString(self, original: Any, updated: Any) -> Any:
            return self._expressions(original)

        def leave_FormattedString(self, original: Any, updated: Any) -> Any:
            return self._expressions(original)

        def leave_TemplatedString(self, original: Any, updated: Any) -> Any:
            return self._expressions(original)
