"""Records, during the module walk, what each function calls and does, for the call graph.

Each named function (module level or a method) gets a `FunctionSummary`: the calls it makes
(resolved to qualified names where the module's imports allow) and its effects - work it
launches, tasks it sends, results it waits on, model writes that fire Django signals. Code in
nested functions and lambdas counts for the function around them. Classes, signal receivers
and the project's own wrappers around `transaction.atomic` are recorded too. The project-wide
rules (`rules/reach.py`) follow these summaries from each task.
"""

from __future__ import annotations

import ast

from async_actions.lint.context import Context
from async_actions.lint.index import ClassSummary, FunctionSummary, ModuleSummary, Receiver, Site
from async_actions.lint.model_writes import signal_write
from async_actions.lint.names import dotted, import_targets, last_part
from async_actions.lint.rules.arguments import sent_arguments
from async_actions.lint.rules.results import is_wait
from async_actions.lint.spellings import is_launch
from async_actions.lint.wrappers import atomic_call, atomic_value, wrapper_kind

_SENDS = frozenset({"delay", "apply_async"})
_PICKLE = ("pickle", "application/x-python-serialize")


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


class Recorder:
    def __init__(self, summary: ModuleSummary, source_mentions_atomic: bool) -> None:
        self.summary = summary
        self.stack: list[FunctionSummary | None] = []
        self.check_wrappers = source_mentions_atomic
        # Inside a nested `def`: it runs when called, maybe after the commit (handed to
        # on_commit by name), so what it sends does not count as sent in the transaction.
        self.nested = 0
        # Per top-level function, gathered cheaply on the way (no walk of the function):
        # imports inside it, and `name = Class(...)` among its top-level statements.
        self.local_imports: dict[str, str] = {}
        self.constructed: dict[str, ast.expr] = {}

    # -- functions and classes -------------------------------------------------------------

    def enter_class(self, ctx: Context, node: ast.ClassDef) -> None:
        if self.stack:
            return  # a class inside a function: its methods count for that function
        bases = [q for b in node.bases if (q := ctx.resolve(b)) is not None]
        methods = {
            s.name for s in node.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        summary = ClassSummary(self._class_key(ctx), bases, methods)
        self.summary.classes.append(summary)
        if self.check_wrappers and "__enter__" in methods:
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef) and stmt.name == "__enter__":
                    if any(atomic_call(ctx, n) for n in ast.walk(stmt)):
                        self.summary.atomic_wrappers[summary.key] = "cm"

    def _class_key(self, ctx: Context) -> str:
        return ".".join([ctx.module, *(c.name for c in ctx.classes)])

    def enter_function(self, ctx: Context, node: ast.AST) -> None:
        if self.stack or isinstance(node, ast.Lambda):
            self.stack.append(None)  # nested: recorded into the enclosing function
            if not isinstance(node, ast.Lambda):
                self.nested += 1
            return
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        owner = self._class_key(ctx) if ctx.classes else ctx.module
        summary = FunctionSummary(f"{owner}.{node.name}", node.name, ctx.path, node.lineno)
        self.local_imports = {}
        self.constructed = {}
        for stmt in node.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Call)
                and isinstance(stmt.value.func, ast.Name | ast.Attribute)
                and (last_part(stmt.value.func) or "")[:1].isupper()
            ):
                self.constructed[stmt.targets[0].id] = stmt.value.func
        a = node.args
        summary.params = [x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
        self.summary.functions.append(summary)
        self.stack.append(summary)
        self._receiver_decorators(ctx, node, summary.key)
        if self.check_wrappers:
            kind = wrapper_kind(ctx, node)
            if kind:
                self.summary.atomic_wrappers[summary.key] = kind

    def exit_function(self, ctx: Context, node: ast.AST) -> None:
        if self.stack.pop() is None and not isinstance(node, ast.Lambda):
            self.nested -= 1

    def _current(self) -> FunctionSummary | None:
        for summary in reversed(self.stack):
            if summary is not None:
                return summary
        return None

    def _receiver_decorators(
        self, ctx: Context, node: ast.FunctionDef | ast.AsyncFunctionDef, key: str
    ) -> None:
        for dec in node.decorator_list:
            if not isinstance(dec, ast.Call) and not isinstance(dec, ast.Attribute):
                continue
            func = dec.func if isinstance(dec, ast.Call) else dec
            keywords = dec.keywords if isinstance(dec, ast.Call) else []
            if last_part(func) == "receiver" and isinstance(dec, ast.Call) and dec.args:
                first = dec.args[0]
                signals = first.elts if isinstance(first, ast.List | ast.Tuple) else [first]
                self._receivers(signals, keywords, key)
            elif isinstance(func, ast.Attribute) and func.attr == "connect":
                # @task_success.connect / @signals.task_prerun.connect(sender=...)
                self._receivers([func.value], keywords, key)

    def _receivers(self, signals: list[ast.expr], keywords: list[ast.keyword], key: str) -> None:
        sender = next((k.value for k in keywords if k.arg == "sender"), None)
        sender_name = None
        if sender is not None:
            if isinstance(sender, ast.Constant) and isinstance(sender.value, str):
                sender_name = sender.value.rpartition(".")[2]
            else:
                sender_name = last_part(sender) or "?"
        for signal in signals:
            name = last_part(signal)
            if name:
                self.summary.receivers.append(Receiver(name, sender_name, key))

    # -- calls -----------------------------------------------------------------------------

    def call(self, ctx: Context, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "connect"
            and node.args
            and not self.summary.is_test  # tests connect receivers for themselves
        ):
            # post_save.connect(handler, sender=Order) or (handler, Order): anywhere
            handler = node.args[0]
            if isinstance(handler, ast.Name | ast.Attribute):
                target = ctx.resolve(handler)
                keywords = list(node.keywords)
                if len(node.args) > 1:
                    keywords.append(ast.keyword(arg="sender", value=node.args[1]))
                if target is not None:
                    self._receivers([func.value], keywords, target)
        summary = self._current()
        if summary is None:
            self._module_level(ctx, node)
            return
        site = dict(
            line=node.lineno,
            col=node.col_offset + 1,
            atomic=bool(ctx.atomic),
            contexts=tuple(ctx.contexts),
            deferred=bool(ctx.deferred or self.nested),
        )
        self._tracking(ctx, node, summary)
        how = is_launch(ctx, node)
        if how is not None:
            text = f"`{_short(ast.unparse(func))}()`"  # only effects carry their text
            summary.effects.append(Site("launch", text=text, **site))  # type: ignore[arg-type]
            if isinstance(func, ast.Attribute) and func.attr in _SENDS:
                summary.effects.append(Site("send", text=text, **site))  # type: ignore[arg-type]
            return
        # `d.get(key)` and `", ".join(xs)` take arguments; a result's `.get()` rarely does
        # (timeout=... is a keyword): checked first, it spares most functions a bindings walk.
        if not node.args and is_wait(ctx, node):
            text = f"`{_short(ast.unparse(func))}()`"
            summary.effects.append(Site("wait", text=text, **site))  # type: ignore[arg-type]
            return
        model_write = signal_write(ctx, node)
        if model_write is not None:
            for target in model_write:
                summary.calls.append(Site(target, text="", **site))  # type: ignore[arg-type]
            return
        target = self._target(ctx, node)
        if target is not None:
            args = _id_arguments(ctx, node)
            summary.calls.append(Site(target, text="", args=args, **site))  # type: ignore[arg-type]

    def _tracking(self, ctx: Context, node: ast.Call, summary: FunctionSummary) -> None:
        sent = sent_arguments(node)
        if not sent:
            return
        assert isinstance(node.func, ast.Attribute)
        task = dotted(node.func.value) or ast.unparse(node.func.value)
        for keyword, value in sent:
            if keyword and ctx.config.is_tracking_kwarg(keyword):
                summary.tracking.append(
                    (ast.unparse(value), task, value.lineno, value.col_offset + 1)
                )

    def local_import(self, ctx: Context, node: ast.Import | ast.ImportFrom) -> None:
        self.local_imports.update(import_targets(node, ctx.module, ctx.is_package))

    def _resolve(self, ctx: Context, expr: ast.expr) -> str | None:
        """Like ctx.resolve, without the per-function walk a local-shadowing check needs:
        every call is resolved here, and a wrongly kept edge only costs a path not taken."""
        name = dotted(expr)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.local_imports:
            base = self.local_imports[head]
        elif head in ctx.imports:
            base = ctx.imports[head]
        elif head in ctx.module_defs:
            base = f"{ctx.module}.{head}"
        else:
            return None  # a builtin, a local variable, a parameter
        return f"{base}.{rest}" if rest else base

    def _target(self, ctx: Context, node: ast.Call) -> str | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            value = func.value
            if isinstance(value, ast.Name) and value.id in ("self", "cls") and ctx.classes:
                return f"self:{self._class_key(ctx)}:{func.attr}"
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id == "super"
                and ctx.classes
            ):
                return f"super:{self._class_key(ctx)}:{func.attr}"
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name | ast.Attribute):
                owner = self._resolve(ctx, value.func)  # Service().run()
                return None if owner is None else f"{owner}.{func.attr}"
            if isinstance(value, ast.Name) and value.id in self.constructed:
                # service = Service(...); service.run()
                owner = self._resolve(ctx, self.constructed[value.id])
                return None if owner is None else f"{owner}.{func.attr}"
        if isinstance(func, ast.Name | ast.Attribute):
            return self._resolve(ctx, func)
        return None

    def _module_level(self, ctx: Context, node: ast.Call) -> None:
        for kw in node.keywords:
            if kw.arg and "serializer" in kw.arg and _is_pickle(kw.value):
                self.summary.uses_pickle = True  # Celery(task_serializer="pickle")

    def end_module(self, ctx: Context, summary: ModuleSummary) -> None:
        tree = ctx.scopes[0].node
        assert isinstance(tree, ast.Module)
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign):
                names = [dotted(t) or "" for t in stmt.targets]
                upper = " ".join(names).upper()
                if ("SERIALIZER" in upper or "ACCEPT_CONTENT" in upper) and _is_pickle(stmt.value):
                    summary.uses_pickle = True
                if self.check_wrappers and atomic_value(ctx, stmt.value):
                    for name in names:
                        if name and "." not in name:
                            summary.atomic_wrappers[f"{ctx.module}.{name}"] = "both"


def _id_arguments(ctx: Context, node: ast.Call) -> tuple[tuple[str, str], ...]:
    """Arguments that may be a report id: a tracking keyword, or a name that says so."""
    out: list[tuple[str, str]] = []
    named = [(str(i), a) for i, a in enumerate(node.args)]
    named += [(k.arg, k.value) for k in node.keywords if k.arg]
    for selector, value in named:
        if isinstance(value, ast.Name | ast.Attribute):
            text = dotted(value) or ""
        elif isinstance(value, ast.Subscript):
            text = ast.unparse(value)
        else:
            continue
        lowered = text.lower()
        if ctx.config.is_tracking_kwarg(selector) or "report" in lowered or "track" in lowered:
            out.append((selector, text))
    return tuple(out)


def _is_pickle(expr: ast.expr) -> bool:
    return any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in _PICKLE
        for n in ast.walk(expr)
    )
