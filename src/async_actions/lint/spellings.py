"""Celery and Django spellings the rules look for, resolved through import aliases."""

from __future__ import annotations

import ast

from async_actions.lint.context import Context
from async_actions.lint.names import last_part

SIGNATURE_METHODS = frozenset({"s", "si", "signature", "subtask"})
LAUNCH_METHODS = frozenset({"delay", "apply_async", "delay_on_commit", "apply_async_on_commit"})
_CANVAS_MODULES = ("celery", "celery.canvas")
# Methods that make a queryset (or start from a manager); values()/values_list() yield plain data.
QUERYSET_METHODS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "select_related",
        "prefetch_related",
        "order_by",
        "distinct",
        "only",
        "defer",
        "select_for_update",
        "using",
        "iterator",
        "annotate",
        "reverse",
    }
)
INSTANCE_GETTERS = frozenset(
    {"get", "create", "first", "last", "latest", "earliest", "get_or_none"}
)
_PLAIN_DATA = frozenset({"values", "values_list", "count", "exists", "aggregate", "in_bulk"})


def _canvas(ctx: Context, func: ast.expr, names: tuple[str, ...]) -> bool:
    # Cheap tests first: resolving may need the scope's bindings (a walk of the function).
    if isinstance(func, ast.Name):
        alias = ctx.imports.get(func.id)
        if func.id not in names and (alias is None or alias.rpartition(".")[2] not in names):
            return False
    elif last_part(func) not in names:
        return False
    qual = ctx.resolve(func)
    if qual is None:
        return False
    if "." not in qual:
        return qual in names  # unresolved: a star import from celery
    module, _, name = qual.rpartition(".")
    return name in names and module in _CANVAS_MODULES


def is_workflow(ctx: Context, call: ast.Call) -> bool:
    """`chain(...)` / `chord(...)`: the constructors whose steps run one after another."""
    return _canvas(ctx, call.func, ("chain", "chord"))


def is_canvas(ctx: Context, call: ast.Call) -> bool:
    return _canvas(ctx, call.func, ("chain", "chord", "group"))


def signature_receiver(ctx: Context, call: ast.Call) -> ast.expr | str | None:
    """For `task.s(...)` the task expression; for `signature("name")` the name string."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in SIGNATURE_METHODS:
        return func.value
    if _canvas(ctx, func, ("signature", "subtask")) and call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        return first
    return None


def is_launch(ctx: Context, call: ast.Call) -> str | None:
    """How `call` sends work to the broker now, or None: `.delay`, `chain(...)()`, `a | b`()..."""
    func = call.func
    if isinstance(func, ast.Attribute):
        if func.attr in LAUNCH_METHODS:
            if func.attr == "apply_async" and _is_self(func.value):
                return None  # self.apply_async in a bound task: a hand-made retry
            return f".{func.attr}()"
        if func.attr == "send_task":
            return ".send_task()"
        return None
    if isinstance(func, ast.Call) and is_canvas(ctx, func):
        return f"{last_part(func.func)}(...)()"
    if isinstance(func, ast.BinOp) and isinstance(func.op, ast.BitOr):
        return "(... | ...)()"
    return None


def _is_self(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Name) and expr.id == "self"


def manager_chain(expr: ast.expr) -> list[str] | None:
    """Attribute/method names from `Model.objects...` outward, or None if not a manager chain."""
    names: list[str] = []
    node = expr
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            names.append("[]")
            node = node.value
        else:
            break
    names.reverse()
    for i, name in enumerate(names):
        if name in ("objects", "_default_manager", "_base_manager"):
            return names[i:]
    return None


def is_queryset(expr: ast.expr) -> bool:
    chain = manager_chain(expr)
    if chain is None or _PLAIN_DATA.intersection(chain):
        return False
    return all(name in QUERYSET_METHODS for name in chain[1:])


def is_instance_expr(expr: ast.expr) -> bool:
    """`Model.objects.get(...)`, `...filter(...).first()`, `get_object_or_404(...)`, `qs[0]`."""
    if isinstance(expr, ast.Call) and (last_part(expr.func) or "").startswith("get_object_or_"):
        return True  # get_object_or_404, and projects' own get_object_or_none / _or_error
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant):
        # Model.objects.get_or_create(...)[0], Model.objects.filter(...)[0]
        inner = expr.value
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
            if inner.func.attr in ("get_or_create", "update_or_create"):
                return manager_chain(inner.func.value) is not None
        return isinstance(expr.slice.value, int) and is_queryset(inner)
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)):
        return False
    if expr.func.attr not in INSTANCE_GETTERS:
        return False
    return is_queryset(expr.func.value)
