"""Recognising Celery tasks in one module: decorated functions and Task subclasses with run()."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from async_actions.lint.names import dotted, last_part

# Qualified names of decorators that make a task, whatever alias they were imported under.
_TASK_DECORATORS = {
    "celery.shared_task",
    "celery.task",
    "celery.decorators.task",
    "celery.task.task",
    "celery.task.periodic_task",
    "celery.decorators.periodic_task",
    "celery.app.shared_task",
}
_TASK_BASES = {"celery.Task", "celery.app.task.Task", "celery.task.Task", "celery.task.base.Task"}
_CONTAINERS = (ast.If, ast.Try, ast.With)


@dataclass
class TaskDef:
    key: str  # module.function, or module.Class for class-based tasks
    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef  # the function, or the class's run()
    line: int
    col: int
    bind: bool
    is_class: bool
    explicit_name: bool  # name="..." given: addressed by string, so its Python name is not its API
    base: ast.expr | None = None  # `base=MyTask` in the decorator


def _qualify(expr: ast.expr, imports: dict[str, str]) -> str | None:
    name = dotted(expr)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head in imports:
        return f"{imports[head]}.{rest}" if rest else imports[head]
    return name


def _task_decorator(dec: ast.expr, imports: dict[str, str], extra: tuple[str, ...]) -> bool:
    target = dec.func if isinstance(dec, ast.Call) else dec
    qual = _qualify(target, imports)
    if qual is None:
        return False
    if isinstance(target, ast.Attribute) and target.attr in ("task", "periodic_task"):
        return True  # @app.task, @celery_app.task, @any_app.task
    if qual in _TASK_DECORATORS or qual == "shared_task":  # unresolved: a star import
        return True
    return last_part(target) in extra


def _keyword(dec: ast.expr, name: str) -> ast.expr | None:
    if isinstance(dec, ast.Call):
        for kw in dec.keywords:
            if kw.arg == name:
                return kw.value
    return None


def _is_true(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is True


def module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    # Tasks defined under `if settings.X:` or `try:` at module level count too.
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, _CONTAINERS):
            for part in ("body", "orelse", "finalbody"):
                out.extend(module_level(getattr(stmt, part, [])))
            for handler in getattr(stmt, "handlers", []):
                out.extend(module_level(handler.body))
        else:
            out.append(stmt)
    return out


def find_tasks(
    tree: ast.Module, module: str, imports: dict[str, str], extra: tuple[str, ...]
) -> dict[ast.AST, TaskDef]:
    """Task definitions keyed by the function node whose body runs on the worker."""
    found: dict[ast.AST, TaskDef] = {}
    task_classes: set[str] = set()
    for stmt in module_level(tree.body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            for dec in stmt.decorator_list:
                if _task_decorator(dec, imports, extra):
                    found[stmt] = TaskDef(
                        key=f"{module}.{stmt.name}",
                        name=stmt.name,
                        node=stmt,
                        line=stmt.lineno,
                        col=stmt.col_offset + 1,
                        bind=_is_true(_keyword(dec, "bind")),
                        is_class=False,
                        explicit_name=_keyword(dec, "name") is not None,
                        base=_keyword(dec, "base"),
                    )
                    break
        elif isinstance(stmt, ast.ClassDef) and _is_task_class(stmt, imports, task_classes):
            task_classes.add(stmt.name)
            for item in stmt.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == "run":
                    found[item] = TaskDef(
                        key=f"{module}.{stmt.name}",
                        name=stmt.name,
                        node=item,
                        line=stmt.lineno,
                        col=stmt.col_offset + 1,
                        bind=True,
                        is_class=True,
                        explicit_name=True,
                    )
    return found


def _is_task_class(node: ast.ClassDef, imports: dict[str, str], known: set[str]) -> bool:
    for base in node.bases:
        qual = _qualify(base, imports)
        if qual in _TASK_BASES or qual in known:
            return True
        # `app.Task`, or a bare `Task` from a star import - but not a model called Task.
        if last_part(base) == "Task" and ".models." not in f".{qual}.":
            return True
    return False
