"""Workflow steps (AA101, AA106): which tasks run as chain/chord steps, and what they launch.

During the walk each module records its signatures (`t.s()`), which of them sit in a
chain/chord/`|` (directly or through a local variable, or returned by a @chainable), the
work each task body launches, and the other uses of names. `check_project` joins them.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

from async_actions.lint.config import Config
from async_actions.lint.context import Context, Scope
from async_actions.lint.findings import Finding
from async_actions.lint.index import Launch, ModuleSummary, ProjectIndex, StepUse, TaskSummary
from async_actions.lint.names import last_part
from async_actions.lint.noqa import silenced
from async_actions.lint.rules.chainable import is_chainable, own_returns
from async_actions.lint.spellings import is_launch, is_workflow, signature_receiver

_DOTTED = re.compile(r"^[A-Za-z_][\w.]{0,200}$")
# Callbacks hang off a workflow but are not its steps: nothing waits for them.
_CALLBACK_METHODS = frozenset({"on_error", "link", "link_error"})
_CALLBACK_KEYWORDS = frozenset({"link", "link_error"})


def _walk_steps(expr: ast.AST) -> list[ast.AST]:
    """Like ast.walk, minus the callbacks (`.on_error(t.s())`, `link=t.s()`)."""
    out: list[ast.AST] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _CALLBACK_METHODS:
                stack.append(func.value)
                continue
            stack.append(func)
            stack.extend(node.args)
            stack.extend(k.value for k in node.keywords if k.arg not in _CALLBACK_KEYWORDS)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return out


class Rule:
    codes = ("AA101", "AA106")

    def __init__(self, config: Config) -> None:
        self.chainables = config.chainable_decorators
        # signature call -> (call, qualified target, task's short name, name as written here)
        self.signatures: dict[int, tuple[ast.Call, str | None, str, str]] = {}
        self.step_ids: set[int] = set()
        self.callback_ids: set[int] = set()
        self.uses: Counter[str] = Counter()
        self.launches: dict[str, list[Launch]] = {}

    def reference(self, ctx: Context, node: ast.AST) -> None:
        # Counted by short name, unresolved: a stray use only ever hides an AA106.
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                self.uses[node.id] += 1
        elif isinstance(node, ast.Attribute):
            self.uses[node.attr] += 1
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _DOTTED.match(node.value):
                self.uses[node.value.rpartition(".")[2]] += 1

    def call(self, ctx: Context, node: ast.Call) -> None:
        receiver = signature_receiver(ctx, node)
        if receiver is not None:
            self._signature(ctx, node, receiver)
        # `link=t.s()`, `.on_error(t.s())`: a callback is not a public use of its task.
        callbacks = [k.value for k in node.keywords if k.arg in _CALLBACK_KEYWORDS]
        if isinstance(node.func, ast.Attribute) and node.func.attr in _CALLBACK_METHODS:
            callbacks += node.args
        for callback in callbacks:
            for sub in ast.walk(callback):
                if isinstance(sub, ast.Call):
                    self.callback_ids.add(id(sub))
        if is_workflow(ctx, node):
            self._workflow(ctx.scope, [*node.args, *(k.value for k in node.keywords)])
        elif isinstance(node.func, ast.Call) and is_workflow(ctx, node.func):
            self._workflow(ctx.scope, list(node.args))  # chord(header)(body)
        if ctx.task is not None:
            how = is_launch(ctx, node)
            if how is not None:
                text = ast.unparse(node.func)
                text = text if len(text) <= 60 else text[:57] + "..."
                launch = Launch(node.lineno, node.col_offset + 1, f"`{text}()`")
                self.launches.setdefault(ctx.task.key, []).append(launch)

    def binop(self, ctx: Context, node: ast.BinOp) -> None:
        self._workflow(ctx.scope, [node.left, node.right])

    def _signature(self, ctx: Context, node: ast.Call, receiver: ast.expr | str) -> None:
        if isinstance(receiver, str):
            short = receiver.rpartition(".")[2]
            self.signatures[id(node)] = (node, receiver, short, short)
            return
        written = last_part(receiver)
        target = ctx.resolve(receiver)
        if written is None or target is None:
            return  # a local variable, `self`, or an expression: not a task by name
        # `from .tasks import fetch as get`: the task is `fetch`, the text here says `get`.
        self.signatures[id(node)] = (node, target, target.rpartition(".")[2], written)

    def _workflow(self, scope: Scope, parts: list[ast.expr]) -> None:
        scope.notes.setdefault("workflows", []).extend(parts)

    def exit_function(self, ctx: Context, node: ast.AST) -> None:
        parts = ctx.scope.notes.get("workflows", [])
        if is_chainable(node, self.chainables):
            returns, _ = own_returns(node)  # type: ignore[arg-type]
            parts = [*parts, *(r.value for r in returns if r.value is not None)]
        if parts:
            self._mark_steps(ctx.scope, parts)

    def _mark_steps(self, scope: Scope, parts: list[ast.expr]) -> None:
        seen: set[int] = set()
        todo = [(p, 0) for p in parts]
        while todo:
            expr, depth = todo.pop()
            for sub in _walk_steps(expr):
                if id(sub) in self.signatures:
                    self.step_ids.add(id(sub))
                elif (
                    isinstance(sub, ast.Name)
                    and depth < 3
                    and not isinstance(scope.node, ast.Module)
                ):
                    # `t1 = a.s(); chain(t1, ...)`: follow the local variable to its values.
                    for value in scope.facts.assigns.get(sub.id, []):
                        if id(value) not in seen:
                            seen.add(id(value))
                            todo.append((value, depth + 1))

    def end_module(self, ctx: Context, summary: ModuleSummary) -> None:
        parts = ctx.scope.notes.get("workflows", [])
        if parts:
            self._mark_steps(ctx.scope, parts)
        for task in ctx.tasks.values():
            summary.tasks.append(
                TaskSummary(
                    key=task.key,
                    name=task.name,
                    path=ctx.path,
                    line=task.line,
                    col=task.col,
                    is_class=task.is_class,
                    explicit_name=task.explicit_name,
                    launches=self.launches.get(task.key, []),
                    body=f"{task.key}.run" if task.is_class else task.key,
                    base=None if task.base is None else ctx.resolve(task.base),
                )
            )
        for sig_id in self.step_ids:
            node, target, name, written = self.signatures[sig_id]
            summary.steps.append(StepUse(target, name, ctx.path, node.lineno))
            self.uses[written] -= 1  # its receiver was counted as a use: it is a step use
        for sig_id in self.callback_ids - self.step_ids:
            if sig_id in self.signatures:
                self.uses[self.signatures[sig_id][3]] -= 1
        summary.other_uses = +self.uses  # drop zero and negative counts


def check_project(index: ProjectIndex, config: Config) -> list[Finding]:
    noqa = {m.path: m.noqa for m in index.modules}
    found: list[Finding] = []

    def report(path: str, line: int, col: int, code: str, message: str) -> None:
        if config.enabled(code) and not silenced(noqa.get(path, {}), line, code):
            found.append(Finding(path, line, col, code, message))

    for task in index.tasks.values():
        steps = index.steps.get(task.key)
        if not steps:
            continue
        step = min(steps, key=lambda s: (s.path, s.line))
        where = f"{step.path}:{step.line}"
        for launch in task.launches:
            report(
                task.path,
                launch.line,
                launch.col,
                "AA101",
                f"{launch.how} inside task `{task.name}`, which runs as a chain step in {where}: "
                "the outer chain will not wait for it. Return the signatures from a @chainable, "
                "or use self.replace().",
            )
        # An explicit name= makes the task addressable by that string (send_task, other
        # services), which the index cannot see: leave it alone.
        public = not task.name.startswith("_") and not task.explicit_name
        if public and not task.is_class and not index.other_uses[task.name]:
            report(
                task.path,
                task.line,
                task.col,
                "AA106",
                f"task `{task.name}` is only used as a workflow step (e.g. {where}) but has a "
                f"public name: call it `_{task.name}` so nobody starts it on its own.",
            )
    return found
