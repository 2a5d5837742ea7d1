"""AA108: a `@chainable` function whose return value is statically not signatures."""

from __future__ import annotations

import ast

from async_actions.lint.config import Config
from async_actions.lint.context import Context
from async_actions.lint.names import last_part
from async_actions.lint.spellings import LAUNCH_METHODS, is_canvas

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def is_chainable(node: ast.AST, decorators: tuple[str, ...]) -> bool:
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if last_part(target) in decorators:
            return True
    return False


def own_returns(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[ast.Return], bool]:
    """The function's own return statements, and whether it is a generator."""
    returns: list[ast.Return] = []
    generator = False
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, _NESTED):
            continue
        if isinstance(node, ast.Return):
            returns.append(node)
        elif isinstance(node, ast.Yield | ast.YieldFrom):
            generator = True
        stack.extend(ast.iter_child_nodes(node))
    return returns, generator


def not_signatures(ctx: Context, expr: ast.expr | None, depth: int = 0) -> str | None:
    """Why `expr` is certainly not signatures, or None when it is (or may be)."""
    if expr is None or isinstance(expr, ast.Constant):
        return f"`{ast.unparse(expr) if expr is not None else 'None'}`"
    if isinstance(expr, ast.Dict | ast.Set | ast.JoinedStr | ast.DictComp | ast.SetComp):
        return f"a {type(expr).__name__.lower()}"
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr in (*LAUNCH_METHODS, "apply"):
            return f"the result of `.{func.attr}()` (work already started, not a signature)"
        if isinstance(func, ast.Call) and is_canvas(ctx, func):
            return "the result of calling a canvas (work already started, not a signature)"
        return None
    if isinstance(expr, ast.Tuple | ast.List):
        for elt in expr.elts:
            reason = None if isinstance(elt, ast.Starred) else not_signatures(ctx, elt, depth)
            if reason:
                return reason
        return None
    if isinstance(expr, ast.Name) and depth < 3:
        values = ctx.assigned(expr.id)
        reasons = [not_signatures(ctx, v, depth + 1) for v in values]
        if values and all(reasons):
            return reasons[0]
    return None


class Rule:
    codes = ("AA108",)

    def __init__(self, config: Config) -> None:
        self.decorators = config.chainable_decorators

    def enter_function(self, ctx: Context, node: ast.AST) -> None:
        if not is_chainable(node, self.decorators):
            return
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        returns, generator = own_returns(node)
        if generator:
            return  # a generator of signatures is an iterable: fine
        fix = "Return the signatures (`return a.s(), b.s()`); the caller chains them."
        if not [r for r in returns if r.value is not None]:
            ctx.report(node, "AA108", f"@chainable `{node.name}` returns None. {fix}")
            return
        for ret in returns:
            reason = not_signatures(ctx, ret.value)
            if reason:
                ctx.report(ret, "AA108", f"@chainable `{node.name}` returns {reason}. {fix}")
