"""Model writes that fire Django's model signals, and the model they write.

`Order.objects.create(...)`, `order.save()` on an order fetched or built in the function,
`...delete()`: each becomes a call to the `pre/post_save` or `pre/post_delete` receivers of
that model, so the call graph follows a task into the receivers its writes run.
"""

from __future__ import annotations

import ast

from async_actions.lint.context import Context
from async_actions.lint.names import last_part
from async_actions.lint.spellings import manager_chain

# Writes that fire pre/post_save, and those that fire pre/post_delete.
_SAVE_WRITES = frozenset({"save", "create", "get_or_create", "update_or_create"})
_DELETE_WRITES = frozenset({"delete"})


def _model_of(ctx: Context, expr: ast.expr, depth: int = 0) -> str | None:
    """The model class's short name behind `Model.objects...` or a local bound to it."""
    chain = manager_chain(expr)
    if chain is not None:
        root: ast.expr = expr
        while True:
            if isinstance(root, ast.Call):
                root = root.func
            elif isinstance(root, ast.Attribute) and root.attr not in (
                "objects",
                "_default_manager",
            ):
                root = root.value
            elif isinstance(root, ast.Subscript):
                root = root.value
            else:
                break
        if isinstance(root, ast.Attribute):
            name = last_part(root.value)
            return name if name and name[:1].isupper() else None
        return None
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name | ast.Attribute):
        # Order(...): a class imported from a models module (or defined in one)
        qual = f".{ctx.resolve(expr.func) or ''}"
        name = last_part(expr.func)
        return name if name and ".models." in qual and name[:1].isupper() else None
    if isinstance(expr, ast.Subscript):
        return _model_of(ctx, expr.value, depth)
    if isinstance(expr, ast.Name) and depth < 2:
        values = ctx.assigned(expr.id)
        models = {_model_of(ctx, v, depth + 1) for v in values}
        if len(models) == 1:
            return models.pop()
    return None


def signal_write(ctx: Context, node: ast.Call) -> list[str] | None:
    """`signal:<name>:<Model>` targets for a write that fires Django model signals."""
    func = node.func
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr in _SAVE_WRITES:
        signals = ("pre_save", "post_save")
    elif func.attr in _DELETE_WRITES:
        signals = ("pre_delete", "post_delete")
    else:
        return None
    if func.attr == "save" and (node.args or isinstance(func.value, ast.Call)):
        return None  # form.save(commit=False), obj.save(path) on a non-model...
    model = _model_of(ctx, func.value)
    if model is None:
        return None
    return [f"signal:{s}:{model}" for s in signals]
