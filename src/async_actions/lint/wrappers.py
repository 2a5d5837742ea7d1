"""The project's own wrappers around `transaction.atomic`, recognised by their bodies.

A `@contextmanager` that yields inside `with transaction.atomic():` ("cm"), a decorator
whose inner function runs the wrapped one inside it ("deco"), a factory that returns
`transaction.atomic(...)` ("both"). Code under them is inside a transaction as much as
under Django's own `atomic`.
"""

from __future__ import annotations

import ast

from async_actions.lint.context import Context
from async_actions.lint.names import last_part
from async_actions.lint.rules import transactions

_CONTEXT_MANAGERS = frozenset({"contextmanager", "asynccontextmanager"})


def atomic_call(ctx: Context, node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and transactions.is_atomic(ctx, node)


def atomic_value(ctx: Context, expr: ast.expr | None) -> bool:
    """`transaction.atomic`, `transaction.atomic(using=...)`, `partial(transaction.atomic, ...)`."""
    if expr is None:
        return False
    if isinstance(expr, ast.Name | ast.Attribute | ast.Call) and transactions.is_atomic(ctx, expr):
        return True
    return (
        isinstance(expr, ast.Call)
        and last_part(expr.func) == "partial"
        and bool(expr.args)
        and transactions.is_atomic(ctx, expr.args[0])
    )


def wrapper_kind(ctx: Context, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """Is this function the project's own `atomic`: a context manager or a decorator?"""
    is_cm = any(last_part(d) in _CONTEXT_MANAGERS for d in node.decorator_list)
    deco = False
    for sub in ast.walk(node):
        if isinstance(sub, ast.Return) and atomic_value(ctx, sub.value):
            return "both"  # def db_atomic(): return transaction.atomic(using="x")
        if isinstance(sub, ast.With | ast.AsyncWith) and any(
            transactions.is_atomic(ctx, i.context_expr) for i in sub.items
        ):
            inner = [n for stmt in sub.body for n in ast.walk(stmt)]
            if is_cm and any(isinstance(n, ast.Yield) for n in inner):
                return "cm"  # @contextmanager: with atomic(): yield
            if _in_nested(node, sub) and any(isinstance(n, ast.Call) for n in inner):
                deco = True  # def deco(f): def inner(*a): with atomic(): return f(*a)
        if (
            isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef)
            and sub is not node
            and any(transactions.is_atomic(ctx, d) for d in sub.decorator_list)
        ):
            deco = True  # def deco(f): @transaction.atomic def inner(...): ...
    return "deco" if deco else None


def _in_nested(outer: ast.AST, target: ast.AST) -> bool:
    for sub in ast.walk(outer):
        if sub is not outer and isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
            if any(n is target for n in ast.walk(sub)):
                return True
    return False
