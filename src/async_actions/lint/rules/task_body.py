"""AA105: business logic in a task - a long body, or ORM writes made by the task itself."""

from __future__ import annotations

import ast

from async_actions.lint.config import Config
from async_actions.lint.context import Context
from async_actions.lint.names import last_part
from async_actions.lint.rules.chainable import own_returns
from async_actions.lint.spellings import (
    INSTANCE_GETTERS,
    QUERYSET_METHODS,
    is_instance_expr,
    is_queryset,
    manager_chain,
)

_ALWAYS_ORM = frozenset({"bulk_create", "bulk_update", "get_or_create", "update_or_create"})
_MANAGER_WRITES = frozenset({"create", "update", "delete"})
_SAVE_KEYWORDS = frozenset({"update_fields", "force_insert", "force_update", "using"})


def _statements(body: list[ast.stmt]) -> int:
    count = 0
    stack: list[ast.AST] = list(body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        count -= 1  # the docstring is not logic
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            count += 1
            stack.extend(ast.iter_child_nodes(node))
        elif isinstance(node, ast.ExceptHandler | ast.match_case):
            # Not statements themselves, but the statements in them are logic too.
            stack.extend(node.body)
    return count


def _name_is(ctx: Context, expr: ast.expr, kind: str) -> bool:
    """Is a local name bound only to a queryset (kind "queryset") or a model instance?"""
    scope = ctx.function_scope()
    if not isinstance(expr, ast.Name) or scope is None:
        return False
    values = scope.facts.assigns.get(expr.id, [])
    loops = scope.facts.loops.get(expr.id, [])
    if kind == "queryset":
        return bool(values) and not loops and all(is_queryset(v) for v in values)
    if not values and not loops:
        return False
    return all(is_instance_expr(v) for v in values) and all(is_queryset(i) for i in loops)


def orm_write(ctx: Context, call: ast.Call) -> str | None:
    """The ORM method `call` writes with, or None. Tuned for precision over recall."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    method, receiver = func.attr, func.value
    if method in _ALWAYS_ORM:
        return method
    if method in _MANAGER_WRITES:
        if manager_chain(receiver) is not None and (is_queryset(receiver) or method == "create"):
            return method  # Model.objects.create(...), qs.filter(...).update(...)
        if _name_is(ctx, _queryset_root(receiver), "queryset") and method != "create":
            return method  # qs.update(), qs.filter(pk=...).delete() on a queryset local
        if method == "delete" and not call.args and _name_is(ctx, receiver, "instance"):
            return method
        return None
    if method == "save" and not call.args and all(k.arg in _SAVE_KEYWORDS for k in call.keywords):
        if _maybe_model(ctx, receiver):
            return method  # obj.save(), form.save(), obj.save(update_fields=[...])
    return None


def _queryset_root(expr: ast.expr) -> ast.expr:
    """`qs.filter(...).exclude(...)` -> `qs`: the name a chain of queryset methods starts from."""
    while (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in QUERYSET_METHODS
    ):
        expr = expr.func.value
    return expr


def _maybe_model(ctx: Context, receiver: ast.expr) -> bool:
    """Is the receiver of `.save()` plausibly a model instance or a ModelForm?

    Plenty of other objects have a `save()` (a trained classifier, a workbook): a local
    name counts only when bound to an ORM lookup, a model or form constructor, or a loop.
    """
    if isinstance(receiver, ast.Attribute):
        root: ast.expr = receiver
        while isinstance(root, ast.Attribute):
            root = root.value
        return not (isinstance(root, ast.Name) and root.id == "self")  # self.<helper>.save()
    scope = ctx.function_scope()
    if not isinstance(receiver, ast.Name) or scope is None:
        return False
    values = scope.facts.assigns.get(receiver.id, [])
    if not values:
        return receiver.id in scope.facts.loops  # `for order in orders: order.save()`
    return all(_model_value(ctx, v) for v in values)


def _model_value(ctx: Context, value: ast.expr) -> bool:
    if is_instance_expr(value):
        return True
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if last_part(func) == "cast" and value.args:
        return _model_class(ctx, value.args[0])  # cast(User, user)
    if isinstance(func, ast.Name) and _returns_instance(ctx, func.id):
        return True  # export = _get_export(export_id), a helper of this module
    if isinstance(func, ast.Attribute) and func.attr in INSTANCE_GETTERS:
        # qs = Ticket.objects.filter(...); ticket = qs.select_for_update().get()
        root: ast.expr = func.value
        while isinstance(root, ast.Call) and isinstance(root.func, ast.Attribute):
            if root.func.attr not in QUERYSET_METHODS:
                return False
            root = root.func.value
        return _name_is(ctx, root, "queryset")
    return _model_class(ctx, func)


def _returns_instance(ctx: Context, name: str) -> bool:
    """A function of this module whose every return is an ORM lookup (`Model.objects.get`)."""
    scope = ctx.function_scope()
    function = ctx.module_functions.get(name)
    if function is None or (scope is not None and name in scope.facts.bound):
        return False
    values = [r.value for r in own_returns(function)[0]]
    return bool(values) and all(v is not None and is_instance_expr(v) for v in values)


def _model_class(ctx: Context, expr: ast.expr) -> bool:
    """A model or form class, judged by the module it is imported from."""
    qual = f".{ctx.resolve(expr) or ''}."
    return ".models." in qual or ".forms." in qual or qual.endswith("Form.")


class Rule:
    codes = ("AA105",)

    def __init__(self, config: Config) -> None:
        self.max_statements = config.max_task_statements

    def enter_function(self, ctx: Context, node: ast.AST) -> None:
        task = ctx.tasks.get(node)
        if task is None:
            return
        body = task.node.body
        size = _statements(body)
        if size > self.max_statements:
            ctx.report(
                task.node,
                "AA105",
                f"task `{task.name}` has {size} statements (max {self.max_statements}): business "
                "logic belongs in a service function the task calls with ids, where it can be "
                "tested and reused without Celery.",
            )
        writes = [
            (n, m)
            for n in ast.walk(task.node)
            if isinstance(n, ast.Call) and (m := orm_write(ctx, n)) is not None
        ]
        if writes:
            first, method = min(writes, key=lambda w: (w[0].lineno, w[0].col_offset))
            more = f" (and {len(writes) - 1} more)" if len(writes) > 1 else ""
            ctx.report(
                first,
                "AA105",
                f"task `{task.name}` writes to the database itself (`.{method}()`{more}): move the "
                "writes into a service function (`services.py`) and let the task call it.",
            )
