"""AA103: a task that blocks its worker waiting for another task's result."""

from __future__ import annotations

import ast

from async_actions.lint.context import Context
from async_actions.lint.names import last_part
from async_actions.lint.spellings import LAUNCH_METHODS, is_canvas

_WAITS = frozenset({"get", "wait", "join", "join_native"})
_RESULT_TYPES = frozenset({"AsyncResult", "GroupResult", "ResultSet"})


def is_result(ctx: Context, expr: ast.expr, depth: int = 0) -> bool:
    """Does `expr` evaluate to an AsyncResult / GroupResult?"""
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr in LAUNCH_METHODS:
            return True
        if isinstance(func, ast.Call) and is_canvas(ctx, func):
            return True  # chain(...)()
        if last_part(func) in _RESULT_TYPES:
            return True  # AsyncResult(id), app.AsyncResult(id), self.AsyncResult(id)
        if isinstance(func, ast.Attribute) and func.attr == "restore":
            return last_part(func.value) == "GroupResult"
        return False
    if isinstance(expr, ast.Name) and depth < 3:
        values = ctx.assigned(expr.id)
        # Every assignment must be a result: a name reused for a dict is left alone.
        return bool(values) and all(is_result(ctx, v, depth + 1) for v in values)
    return False


def is_wait(ctx: Context, node: ast.Call) -> bool:
    """`result.get()`, `chain(...)().get()`, `AsyncResult(id).wait()`..."""
    func = node.func
    return isinstance(func, ast.Attribute) and func.attr in _WAITS and is_result(ctx, func.value)


class Rule:
    codes = ("AA103",)

    def call(self, ctx: Context, node: ast.Call) -> None:
        if ctx.task is None or not is_wait(ctx, node):
            return
        func = node.func
        assert isinstance(func, ast.Attribute)
        ctx.report(
            node,
            "AA103",
            f"`.{func.attr}()` waits for another task inside task `{ctx.task.name}`: the worker "
            "sits blocked and can deadlock when all workers wait. Chain the next step instead "
            "(`chain(a.s(), b.s())`, or a chord for fan-in).",
        )
