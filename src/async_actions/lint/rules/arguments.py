"""What is sent to a task: AA104 (model instances) and AA107 (one report id, many tasks)."""

from __future__ import annotations

import ast

from async_actions.lint.context import Context
from async_actions.lint.index import ModuleSummary
from async_actions.lint.names import dotted, last_part
from async_actions.lint.spellings import is_instance_expr, is_queryset

_DIRECT = frozenset({"delay", "s", "si", "delay_on_commit"})
_PACKED = frozenset({"apply_async", "apply_async_on_commit"})
_REQUEST_USERS = frozenset({"request.user", "self.request.user"})
# Not post_delete/pre_delete: once the row is gone there is no id to fetch it by, and
# sending the instance (with a pickle serializer) is a deliberate choice.
_SIGNALS_WITH_INSTANCE = frozenset({"post_save", "pre_save"})


def sent_arguments(call: ast.Call) -> list[tuple[str | None, ast.expr]]:
    """(keyword or None, value) for each argument a send/signature call gives the task."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return []
    if func.attr in _DIRECT:
        out: list[tuple[str | None, ast.expr]] = [
            (None, a) for a in call.args if not isinstance(a, ast.Starred)
        ]
        out += [(kw.arg, kw.value) for kw in call.keywords if kw.arg is not None]
        return out
    if func.attr not in _PACKED:
        return []
    packed = dict(zip(("args", "kwargs"), call.args, strict=False))
    packed.update({kw.arg: kw.value for kw in call.keywords if kw.arg in ("args", "kwargs")})
    out = []
    args = packed.get("args")
    if isinstance(args, ast.Tuple | ast.List):
        out += [(None, a) for a in args.elts if not isinstance(a, ast.Starred)]
    kwargs = packed.get("kwargs")
    if isinstance(kwargs, ast.Dict):
        for key, value in zip(kwargs.keys, kwargs.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                out.append((key.value, value))
    return out


def _signal_instance_param(ctx: Context, name: str) -> bool:
    # `instance` in a @receiver(post_save, ...) handler is the saved model instance.
    scope = ctx.function_scope()
    if scope is None or name != "instance" or isinstance(scope.node, ast.Lambda):
        return False
    for dec in scope.node.decorator_list:  # type: ignore[union-attr]
        if isinstance(dec, ast.Call) and last_part(dec.func) == "receiver" and dec.args:
            signals = (
                dec.args[0].elts if isinstance(dec.args[0], ast.List | ast.Tuple) else dec.args[:1]
            )
            if any(last_part(s) in _SIGNALS_WITH_INSTANCE for s in signals):
                return True
    return False


def _instance_value(expr: ast.expr) -> bool:
    return is_instance_expr(expr) or dotted(expr) in _REQUEST_USERS


def is_model_instance(ctx: Context, expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name):
        scope = ctx.function_scope()
        if scope is None:
            return False
        values = scope.facts.assigns.get(expr.id, [])
        loops = scope.facts.loops.get(expr.id, [])
        if expr.id in scope.facts.params:
            return not values and not loops and _signal_instance_param(ctx, expr.id)
        if not values and not loops:
            return False
        # Every binding must give an instance; `order = order.pk` later means we can't tell.
        return all(_instance_value(v) for v in values) and all(is_queryset(i) for i in loops)
    if isinstance(expr, ast.Attribute):
        return dotted(expr) in _REQUEST_USERS
    return is_instance_expr(expr)


class Rule:
    codes = ("AA104", "AA107")

    def call(self, ctx: Context, node: ast.Call) -> None:
        sent = sent_arguments(node)
        if not sent:
            return
        func = node.func
        assert isinstance(func, ast.Attribute)
        task = dotted(func.value) or ast.unparse(func.value)
        for keyword, value in sent:
            if is_model_instance(ctx, value):
                what = ast.unparse(value)
                ctx.report(
                    value,
                    "AA104",
                    f"`{what}` looks like a model instance sent to task `{task}`: it is "
                    "serialized (or fails to be) and is stale by the time the worker runs. "
                    f"Send its id (`{what}.pk`) and fetch the row in the task.",
                )
            if keyword and ctx.config.is_tracking_kwarg(keyword):
                if isinstance(value, ast.Name | ast.Attribute | ast.Subscript):
                    notes = ctx.scope.notes.setdefault("tracking", [])
                    notes.append((keyword, ast.dump(value), task, value))

    def exit_function(self, ctx: Context, node: ast.AST) -> None:
        self._check_tracking(ctx)

    def end_module(self, ctx: Context, summary: ModuleSummary) -> None:
        self._check_tracking(ctx)

    def _check_tracking(self, ctx: Context) -> None:
        first_task: dict[str, str] = {}
        for keyword, value_key, task, value in ctx.scope.notes.get("tracking", []):
            owner = first_task.setdefault(value_key, task)
            if owner != task:
                what = ast.unparse(value)
                ctx.report(
                    value,
                    "AA107",
                    f"`{keyword}={what}` is also given to task `{owner}`: one report tracks one "
                    "task, and two tasks writing it overwrite each other's status. Create a "
                    "report per task (or track the whole workflow as one action).",
                )
