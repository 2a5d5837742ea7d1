"""Static name resolution: module names from paths, import aliases, and local shadowing."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
_GROWERS = frozenset({"append", "extend", "insert", "add"})
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def module_name(path: Path) -> tuple[str, bool]:
    """Dotted module name found by walking up through packages, and whether it is a package."""
    path = path.resolve()
    is_package = path.name == "__init__.py"
    parts = [] if is_package else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder != folder.parent:
        parts.append(folder.name)
        folder = folder.parent
    return ".".join(reversed(parts)) or path.stem, is_package


def import_targets(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool
) -> dict[str, str]:
    """Local name -> qualified name bound by one import statement."""
    bound: dict[str, str] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                bound[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                bound[top] = top
        return bound
    base = node.module or ""
    if node.level:
        # Relative import: climb from this module's package.
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
        base = ".".join([*package, base] if base else package)
    for alias in node.names:
        if alias.name != "*":
            bound[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    return bound


@dataclass
class ScopeFacts:
    """What one function binds, gathered in one walk that skips nested functions' bodies."""

    bound: set[str] = field(default_factory=set)
    assigns: dict[str, list[ast.expr]] = field(default_factory=dict)
    loops: dict[str, list[ast.expr]] = field(default_factory=dict)  # loop variable -> iterables
    params: list[str] = field(default_factory=list)
    declared_global: set[str] = field(default_factory=set)
    imports: list[ast.Import | ast.ImportFrom] = field(default_factory=list)


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [n for elt in target.elts for n in _target_names(elt)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def scope_facts(func: FunctionNode) -> ScopeFacts:
    facts = ScopeFacts()
    args = func.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            facts.params.append(arg.arg)
    facts.bound.update(facts.params)
    body = [func.body] if isinstance(func, ast.Lambda) else func.body
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, _NESTED):
            if not isinstance(node, ast.Lambda):
                facts.bound.add(node.name)
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name in _target_names(target):
                    facts.bound.add(name)
                    facts.assigns.setdefault(name, []).append(node.value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
            for name in _target_names(node.target):
                facts.bound.add(name)
                if node.value is not None:
                    facts.assigns.setdefault(name, []).append(node.value)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            for name in _target_names(node.target):
                facts.bound.add(name)
                facts.loops.setdefault(name, []).append(node.iter)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            facts.bound.update(_target_names(node.optional_vars))
        elif isinstance(node, ast.ExceptHandler) and node.name:
            facts.bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            facts.imports.append(node)  # resolved by the caller, which knows the module
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _GROWERS
            and isinstance(node.func.value, ast.Name)
            and node.args
        ):
            # `steps.append(a.s())` feeds `chain(*steps)` just as an assignment would.
            facts.assigns.setdefault(node.func.value.id, []).append(node.args[-1])
        elif isinstance(node, ast.Global | ast.Nonlocal):
            facts.declared_global.update(node.names)
        stack.extend(ast.iter_child_nodes(node))
    facts.bound -= facts.declared_global
    return facts


def dotted(expr: ast.expr) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))


def last_part(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None
