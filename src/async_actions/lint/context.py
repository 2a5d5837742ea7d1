"""The state of the walk through one module, shared by the rules: scopes, task, transaction."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from async_actions.lint.config import Config
from async_actions.lint.findings import Finding
from async_actions.lint.names import FunctionNode, ScopeFacts, dotted, import_targets, scope_facts
from async_actions.lint.tasks import TaskDef


@dataclass
class Scope:
    node: FunctionNode | ast.Module
    module: str
    is_package: bool
    _facts: ScopeFacts | None = None
    _imports: dict[str, str] | None = None
    # Per-scope notes a rule keeps until the scope ends (workflows seen, ids passed, ...).
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def facts(self) -> ScopeFacts:
        # Lazy: most functions never need it.
        if self._facts is None:
            assert not isinstance(self.node, ast.Module)
            self._facts = scope_facts(self.node)
        return self._facts

    @property
    def imports(self) -> dict[str, str]:
        if self._imports is None:
            self._imports = {}
            for node in self.facts.imports:
                self._imports.update(import_targets(node, self.module, self.is_package))
        return self._imports


@dataclass
class Context:
    path: str
    module: str
    is_package: bool
    config: Config
    imports: dict[str, str]  # module-level aliases
    module_defs: set[str]  # names bound at module level
    tasks: dict[ast.AST, TaskDef]  # function node -> task
    module_functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(
        default_factory=dict
    )
    scopes: list[Scope] = field(default_factory=list)
    task: TaskDef | None = None  # the task whose body we are in
    atomic: int = 0  # depth of transaction.atomic around this point
    # Qualified names of the other with-blocks and decorators around this point: the
    # project's own atomic wrappers are only known once the whole project is indexed.
    contexts: list[str] = field(default_factory=list)
    deferred: int = 0  # inside a transaction.on_commit(...) callback
    classes: list[ast.ClassDef] = field(default_factory=list)  # enclosing class statements
    # function name -> signals it is connected to in this module (`post_save.connect(f)`)
    connected: dict[str, set[str]] = field(default_factory=dict)
    # AA104 findings decided project-wide: (line, col, message)
    pending_instances: list[tuple[int, int, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]

    def report(self, node: ast.AST, code: str, message: str) -> None:
        if self.config.enabled(code):
            line = getattr(node, "lineno", 1)
            col = getattr(node, "col_offset", 0) + 1
            self.findings.append(Finding(self.path, line, col, code, message))

    def resolve(self, expr: ast.expr) -> str | None:
        """Qualified name of a Name/Attribute chain; None when it is a local variable."""
        name = dotted(expr)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        base: str | None = None
        for scope in reversed(self.scopes[1:]):
            if head in scope.imports:
                base = scope.imports[head]
                break
            if head in scope.facts.bound:
                return None  # a local shadows any module-level task of that name
        if base is None:
            if head in self.imports:
                base = self.imports[head]
            elif head in self.module_defs:
                base = f"{self.module}.{head}"
            else:
                base = head  # a builtin or a name from a star import
        return f"{base}.{rest}" if rest else base

    def function_scope(self) -> Scope | None:
        return self.scopes[-1] if len(self.scopes) > 1 else None

    def assigned(self, name: str) -> list[ast.expr]:
        """Values assigned to a local name in the current function (flow-insensitive)."""
        scope = self.function_scope()
        return [] if scope is None else scope.facts.assigns.get(name, [])
