"""AA102: sending a task from inside `transaction.atomic` without waiting for the commit."""

from __future__ import annotations

import ast

from async_actions.lint.context import Context
from async_actions.lint.names import last_part

_ATOMIC = {"django.db.transaction.atomic", "transaction.atomic"}
_SENDS = frozenset({"delay", "apply_async"})


def is_atomic(ctx: Context, expr: ast.expr) -> bool:
    """`transaction.atomic`, `transaction.atomic(using=...)`, `atomic` imported from Django."""
    target = expr.func if isinstance(expr, ast.Call) else expr
    qual = ctx.resolve(target)
    return qual is not None and (qual in _ATOMIC or qual.endswith(".transaction.atomic"))


def is_on_commit(ctx: Context, call: ast.Call) -> bool:
    # transaction.on_commit, connection.on_commit, and projects' own `*_on_commit` helpers
    return (last_part(call.func) or "").endswith("on_commit")


class Rule:
    codes = ("AA102",)

    def call(self, ctx: Context, node: ast.Call) -> None:
        func = node.func
        if not ctx.atomic or not isinstance(func, ast.Attribute) or func.attr not in _SENDS:
            return
        ctx.report(
            node,
            "AA102",
            f"`.{func.attr}()` inside `transaction.atomic`: the worker can start before the "
            "commit and not find the rows. Send it with `transaction.on_commit(lambda: ...)` "
            "or `.delay_on_commit()`.",
        )
