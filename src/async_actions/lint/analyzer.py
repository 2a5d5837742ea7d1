"""One walk over one module's AST, calling every rule's hooks with the shared context."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from async_actions.lint import cache
from async_actions.lint import noqa as noqa_mod
from async_actions.lint.callgraph import Recorder
from async_actions.lint.config import Config
from async_actions.lint.context import Context, Scope
from async_actions.lint.findings import SYNTAX_ERROR, Finding
from async_actions.lint.index import ModuleSummary
from async_actions.lint.names import import_targets, last_part, module_name
from async_actions.lint.parsing import parse
from async_actions.lint.rules import (
    arguments,
    chainable,
    results,
    task_body,
    transactions,
    workflow,
)
from async_actions.lint.tasks import find_tasks, module_level

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _rules(config: Config, summary: ModuleSummary, source: str) -> list[object]:
    return [
        Recorder(summary, "atomic" in source),
        workflow.Rule(config),
        transactions.Rule(),
        results.Rule(),
        arguments.Rule(),
        task_body.Rule(config),
        chainable.Rule(config),
    ]


class _Walker:
    def __init__(self, ctx: Context, rules: list[object]) -> None:
        self.ctx = ctx
        hooks = (
            "enter_function",
            "exit_function",
            "enter_class",
            "call",
            "binop",
            "reference",
            "local_import",
            "end_module",
        )
        # Bound methods gathered once, so a node costs one list walk per hook kind.
        self.hooks = {h: [getattr(r, h) for r in rules if hasattr(r, h)] for h in hooks}

    def visit(self, node: ast.AST) -> None:
        kind = type(node)
        if kind is ast.Call:
            self._call(node)  # type: ignore[arg-type]
            return
        if kind in _FUNCTIONS or kind is ast.Lambda:
            self._function(node)  # type: ignore[arg-type]
            return
        if kind is ast.With or kind is ast.AsyncWith:
            self._with(node)  # type: ignore[arg-type]
            return
        if kind is ast.Name or kind is ast.Constant:
            for hook in self.hooks["reference"]:
                hook(self.ctx, node)
            return  # leaves: nothing below them matters (a Name's ctx)
        if kind is ast.Attribute:
            for hook in self.hooks["reference"]:
                hook(self.ctx, node)
            self.visit(node.value)  # type: ignore[attr-defined]
            return
        if kind is ast.Import or kind is ast.ImportFrom:
            if len(self.ctx.scopes) > 1:
                for hook in self.hooks["local_import"]:
                    hook(self.ctx, node)
            return
        if kind is ast.ClassDef:
            self._class(node)  # type: ignore[arg-type]
            return
        if kind is ast.BinOp and isinstance(node.op, ast.BitOr):  # type: ignore[attr-defined]
            for hook in self.hooks["binop"]:
                hook(self.ctx, node)
        for child in ast.iter_child_nodes(node):
            self.visit(child)

    def _call(self, node: ast.Call) -> None:
        ctx = self.ctx
        for hook in self.hooks["call"]:
            hook(ctx, node)
        self.visit(node.func)
        if transactions.is_on_commit(ctx, node):
            # The callback runs after the commit: nothing in it is inside the transaction.
            saved, ctx.atomic = ctx.atomic, 0
            ctx.deferred += 1
            self._children(node.args, node.keywords)
            ctx.atomic = saved
            ctx.deferred -= 1
        else:
            self._children(node.args, node.keywords)

    def _children(self, args: list[ast.expr], keywords: list[ast.keyword]) -> None:
        for arg in args:
            self.visit(arg)
        for kw in keywords:
            self.visit(kw.value)

    def _with(self, node: ast.With | ast.AsyncWith) -> None:
        ctx = self.ctx
        atomic = False
        depth = len(ctx.contexts)
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.visit(item.optional_vars)
            if transactions.is_atomic(ctx, item.context_expr):
                atomic = True
            else:
                _push_context(ctx, item.context_expr)
        ctx.atomic += atomic
        for stmt in node.body:
            self.visit(stmt)
        ctx.atomic -= atomic
        del ctx.contexts[depth:]

    def _class(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self.ctx.classes.append(node)
        for hook in self.hooks["enter_class"]:
            hook(self.ctx, node)
        for stmt in node.body:
            self.visit(stmt)
        self.ctx.classes.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        ctx = self.ctx
        if not isinstance(node, ast.Lambda):
            for dec in node.decorator_list:
                self.visit(dec)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        saved_task, saved_atomic, saved_contexts = ctx.task, ctx.atomic, ctx.contexts
        if node in ctx.tasks:
            ctx.task = ctx.tasks[node]
        # A nested function runs when called, not where it is defined: leave the transaction,
        # unless the function itself is decorated with transaction.atomic.
        ctx.atomic = 0
        ctx.contexts = []
        if not isinstance(node, ast.Lambda):
            for dec in node.decorator_list:
                if transactions.is_atomic(ctx, dec):
                    ctx.atomic = 1
                else:
                    _push_context(ctx, dec)
        ctx.scopes.append(Scope(node, ctx.module, ctx.is_package))
        for hook in self.hooks["enter_function"]:
            hook(ctx, node)
        body = [node.body] if isinstance(node, ast.Lambda) else node.body
        for stmt in body:
            self.visit(stmt)
        for hook in self.hooks["exit_function"]:
            hook(ctx, node)
        ctx.scopes.pop()
        ctx.task, ctx.atomic, ctx.contexts = saved_task, saved_atomic, saved_contexts

    def run(self, tree: ast.Module, summary: ModuleSummary) -> None:
        self.ctx.scopes.append(Scope(tree, self.ctx.module, self.ctx.is_package))
        for stmt in tree.body:
            self.visit(stmt)
        for hook in self.hooks["end_module"]:
            hook(self.ctx, summary)


def _push_context(ctx: Context, expr: ast.expr) -> None:
    target = expr.func if isinstance(expr, ast.Call) else expr
    if isinstance(target, ast.Name | ast.Attribute):
        qual = ctx.resolve(target)
        if qual is not None:
            ctx.contexts.append(qual)


def _connected(tree: ast.Module) -> dict[str, set[str]]:
    """`post_save.connect(handler, ...)`: handler name -> signal names, in this module."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "connect"
            and node.args
        ):
            handler, signal = last_part(node.args[0]), last_part(node.func.value)
            if handler and signal:
                found.setdefault(handler, set()).add(signal)
    return found


def _module_bindings(
    tree: ast.Module, module: str, is_package: bool
) -> tuple[dict[str, str], set[str], dict[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    imports: dict[str, str] = {}
    defs: set[str] = set()
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for stmt in module_level(tree.body):
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            imports.update(import_targets(stmt, module, is_package))
        elif isinstance(stmt, (*_FUNCTIONS, ast.ClassDef)):
            defs.add(stmt.name)
            if isinstance(stmt, _FUNCTIONS):
                functions[stmt.name] = stmt
        elif isinstance(stmt, ast.Assign):
            defs.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    for name in defs:
        imports.pop(name, None)  # redefined after import: the local definition wins
    return imports, defs, functions


def analyze_source(
    source: str, path: str, config: Config, tree: ast.Module | None = None
) -> tuple[list[Finding], ModuleSummary]:
    """Per-file findings (AA102-AA105, AA107, AA108) and the file's part of the index.

    `tree` may be given when the caller (flake8) has parsed the file already.
    """
    name, is_package = module_name(Path(path))
    noqa = noqa_mod.parse(source)
    summary = ModuleSummary(path=path, module=name, noqa=noqa, is_test=is_test_module(path, name))
    try:
        tree = tree or parse(source, path)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        col = getattr(exc, "offset", None) or 1
        msg = getattr(exc, "msg", None) or str(exc)
        return [Finding(path, line, col, SYNTAX_ERROR, f"cannot parse this file: {msg}")], summary
    imports, defs, functions = _module_bindings(tree, name, is_package)
    ctx = Context(
        path=path,
        module=name,
        is_package=is_package,
        config=config,
        imports=imports,
        module_defs=defs,
        module_functions=functions,
        tasks=find_tasks(tree, name, imports, config.task_decorators),
    )
    if ".connect(" in source:
        ctx.connected = _connected(tree)
    _Walker(ctx, _rules(config, summary, source)).run(tree, summary)
    summary.pending_instances = ctx.pending_instances
    kept = [f for f in ctx.findings if not noqa_mod.silenced(noqa, f.line, f.code)]
    return kept, summary


_TEST_DIRS = frozenset({"tests", "test", "testing"})


def is_test_module(path: str, module: str) -> bool:
    """Test modules: their use of a task does not make it public.

    Judged by the file name and the module's dotted name (its packages), not by the folders
    above the project, which may be called anything.
    """
    name = Path(path).name
    if name in ("conftest.py", "tests.py") or name.startswith("test_"):
        return True
    return name.endswith(("_test.py", "_tests.py")) or any(
        part in _TEST_DIRS for part in module.split(".")[:-1]
    )


def analyze_file(path: Path, config: Config) -> tuple[list[Finding], ModuleSummary]:
    try:
        data = path.read_bytes()
        source = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        finding = Finding(str(path), 1, 1, SYNTAX_ERROR, f"cannot read this file: {exc}")
        return [finding], ModuleSummary(str(path), path.stem, {})
    if not config.cache_dir:
        return analyze_source(source, str(path), config)
    name = cache.key(config, path, data)
    cached = cache.load(config.cache_dir, name)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    result = analyze_source(source, str(path), config)
    cache.store(config.cache_dir, name, result)
    return result


# Deeply nested expressions (long `a + b + ...` chains) are walked recursively.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
