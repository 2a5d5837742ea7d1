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
_SIGNALS_WITH_INSTANCE = frozenset({"post_save", "pre_save", "m2m_changed"})
# Once the row is gone there is no id to fetch it by: sending the deleted instance is a
# deliberate choice when the project uses a pickle serializer, and a bug (it does not
# serialize) with Celery's default JSON one. Decided once the whole project is indexed.
_DELETE_SIGNALS = frozenset({"post_delete", "pre_delete"})
_MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})


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


def _signals_of(ctx: Context, node: ast.AST) -> set[str]:
    """The model signals a function receives: `@receiver(post_save, ...)` or `.connect(f)`."""
    found: set[str] = set()
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and last_part(dec.func) == "receiver" and dec.args:
                first = dec.args[0]
                signals = first.elts if isinstance(first, ast.List | ast.Tuple) else [first]
                found.update(n for s in signals if (n := last_part(s)))
        found.update(ctx.connected.get(node.name, ()))
    return found


def _instance_kind(ctx: Context, expr: ast.expr) -> str | None:
    """ "save" or "delete" when `expr` is a model signal's `instance`, else None."""
    scope = ctx.function_scope()
    if scope is None or isinstance(scope.node, ast.Lambda):
        return None
    if isinstance(expr, ast.Name):
        if expr.id != "instance" or expr.id not in scope.facts.params:
            return None
    elif not _kwargs_instance(expr, scope.facts.params):
        return None
    signals = _signals_of(ctx, scope.node)
    if signals & _SIGNALS_WITH_INSTANCE:
        return "save"
    if signals & _DELETE_SIGNALS:
        return "delete"
    return None


def _kwargs_instance(expr: ast.expr, params: list[str]) -> bool:
    # kwargs["instance"], kwargs.get("instance") in a receiver taking **kwargs
    if isinstance(expr, ast.Subscript):
        key, holder = expr.slice, expr.value
    elif (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get"
        and expr.args
    ):
        key, holder = expr.args[0], expr.func.value
    else:
        return False
    return (
        isinstance(key, ast.Constant)
        and key.value == "instance"
        and isinstance(holder, ast.Name)
        and holder.id in params
    )


def _model_self(ctx: Context, expr: ast.expr) -> bool:
    """`self` in a method of a Django model class."""
    scope = ctx.function_scope()
    if (
        not isinstance(expr, ast.Name)
        or expr.id != "self"
        or scope is None
        or not ctx.classes
        or not isinstance(scope.node, ast.FunctionDef | ast.AsyncFunctionDef)
        or scope.node not in ctx.classes[-1].body
        or scope.facts.params[:1] != ["self"]
        or "self" in scope.facts.assigns
    ):
        return False
    return is_model_class(ctx, ctx.classes[-1])


def is_model_class(ctx: Context, cls: ast.ClassDef) -> bool:
    for base in cls.bases:
        qual = ctx.resolve(base) or ""
        if qual in _MODEL_BASES or qual.endswith(".models.Model"):
            return True
        if ".models." in f".{qual}" and not qual.endswith(("Mixin", "Manager", "QuerySet")):
            return True  # a project's abstract base model, imported from a models module
    return False


def _instance_value(ctx: Context, expr: ast.expr, depth: int) -> bool:
    if is_instance_expr(expr) or dotted(expr) in _REQUEST_USERS:
        return True
    # `obj = instance` in a post_save receiver
    return depth < 2 and isinstance(expr, ast.Name) and bool(_local_kind(ctx, expr, depth + 1))


def _local_kind(ctx: Context, expr: ast.Name, depth: int = 0) -> str | None:
    scope = ctx.function_scope()
    if scope is None:
        return None
    values = scope.facts.assigns.get(expr.id, [])
    loops = scope.facts.loops.get(expr.id, [])
    if expr.id in scope.facts.params:
        if values or loops:
            return None
        return _instance_kind(ctx, expr) or ("save" if _model_self(ctx, expr) else None)
    if not values and not loops:
        return None
    kinds = {_instance_kind(ctx, v) for v in values}
    if len(kinds) == 1 and None not in kinds and not loops:
        return kinds.pop()  # obj = kwargs["instance"]
    # Every binding must give an instance; `order = order.pk` later means we can't tell.
    if all(_instance_value(ctx, v, depth) for v in values) and all(is_queryset(i) for i in loops):
        return "save"
    return None


def model_instance_kind(ctx: Context, expr: ast.expr) -> str | None:
    """ "save" for a live model instance, "delete" for a deleted one (pre/post_delete)."""
    if isinstance(expr, ast.Name):
        return _local_kind(ctx, expr)
    if isinstance(expr, ast.Attribute):
        return "save" if dotted(expr) in _REQUEST_USERS else None
    if isinstance(expr, ast.Subscript | ast.Call):
        kind = _instance_kind(ctx, expr)
        if kind:
            return kind
    return "save" if is_instance_expr(expr) else None


def is_model_instance(ctx: Context, expr: ast.expr) -> bool:
    return model_instance_kind(ctx, expr) == "save"


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
            kind = model_instance_kind(ctx, value)
            what = ast.unparse(value)
            if kind == "save":
                ctx.report(
                    value,
                    "AA104",
                    f"`{what}` looks like a model instance sent to task `{task}`: it is "
                    "serialized (or fails to be) and is stale by the time the worker runs. "
                    f"Send its id (`{what}.pk`) and fetch the row in the task.",
                )
            elif kind == "delete" and ctx.config.enabled("AA104"):
                # Reported only if no pickle serializer is configured anywhere (see above).
                ctx.pending_instances.append(
                    (
                        value.lineno,
                        value.col_offset + 1,
                        f"`{what}` is a deleted model instance sent to task `{task}`: with "
                        "Celery's JSON serializer it cannot be sent at all. Send the fields "
                        f"the task needs (`{what}.pk`, names, paths) - the row is gone.",
                    )
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
