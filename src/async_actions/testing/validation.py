"""`validate_tasks()`: the talk's validation tests, for every task a project registers.

    from async_actions.testing import validate_tasks

    def test_tasks():
        validate_tasks()

Each problem names the task and how to fix it. Checks: the task's module imports and holds
it; the sample arguments built from its annotations (or given in `samples`) can be encoded
by its serializer; the talk's pattern (the report id in kwargs) only with
`BaseErrorHandlerMixin`, and that base only on tasks that accept the id; and, through
`async-actions lint` on the tasks' packages, workflow-only tasks are private (AA106) and
`@chainable` functions return signatures (AA108).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from celery import Celery, Task
from kombu.exceptions import EncodeError
from kombu.serialization import dumps

from async_actions.testing.samples import NoSample, sample_arguments

REPORT_ID_KWARG = "async_action_report_id"  # the talk's kwarg (async_actions.mixins)

Samples = Mapping[str, tuple[tuple[Any, ...], dict[str, Any]]]


@dataclass(frozen=True)
class TaskProblem:
    task: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.task}: {self.problem}" + (f" Fix: {self.fix}" if self.fix else "")


def _app(app: Celery | None) -> Celery:
    if app is None:
        from celery import current_app

        app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.loader.import_default_modules()  # autodiscovery: every task the worker would have
    return app


def project_tasks(app: Celery | None = None) -> list[Task[Any, Any]]:
    """The app's registered tasks, without Celery's own and this library's."""
    app = _app(app)
    return [
        task
        for name, task in sorted(app.tasks.items())
        if not name.startswith(("celery.", "async_actions."))
    ]


def _run(task: Task[Any, Any]) -> Any:
    return getattr(task, "__wrapped__", None) or task.run


def _check_importable(task: Task[Any, Any]) -> Iterable[TaskProblem]:
    run = _run(task)
    module_name = getattr(run, "__module__", None) or type(task).__module__
    try:
        module = import_module(module_name)
    except Exception as exc:
        yield TaskProblem(
            task.name,
            f"its module {module_name} does not import ({type(exc).__name__}: {exc}).",
            "a worker imports it to register the task; make the import work without side "
            "effects (no database or network at import time).",
        )
        return
    holder = getattr(module, getattr(run, "__name__", ""), None)
    if holder is not task and getattr(holder, "name", None) != task.name:
        yield TaskProblem(
            task.name,
            f"it is not reachable as {module_name}.{getattr(run, '__name__', '?')}.",
            "define the task at the top level of its module (not inside a function), so "
            "every worker that imports the module registers it.",
        )


def _check_encodable(task: Task[Any, Any], samples: Samples) -> Iterable[TaskProblem]:
    if task.name in samples:
        args, kwargs = samples[task.name]
    else:
        try:
            args, kwargs = sample_arguments(_run(task))
        except NoSample as exc:
            yield TaskProblem(
                task.name,
                f"its parameter {exc.parameter!r} is annotated {exc.annotation}, which is not a "
                "plain value a message can carry.",
                "pass an id or plain values (str, int, float, bool, lists and dicts of them) "
                f"and load the object in the task; or give validate_tasks(samples={{"
                f"{task.name!r}: (args, kwargs)}}) if your serializer handles it.",
            )
            return
    try:
        dumps((args, kwargs), serializer=task.serializer)
    except (EncodeError, TypeError, ValueError) as exc:
        yield TaskProblem(
            task.name,
            f"its arguments {args!r:.80} {kwargs!r:.80} cannot be encoded with the "
            f"{task.serializer!r} serializer ({exc}).",
            "pass ids and plain values, not objects; load the object inside the task.",
        )


def _accepts_report_id(task: Task[Any, Any]) -> bool:
    try:
        parameters = inspect.signature(_run(task)).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind is p.VAR_KEYWORD or p.name == REPORT_ID_KWARG for p in parameters)


def _uses_report_id_kwarg(task: Task[Any, Any]) -> bool:
    try:
        source = inspect.getsource(_run(task))
    except (OSError, TypeError):
        return False
    return REPORT_ID_KWARG in source


def _check_talk_pattern(task: Task[Any, Any]) -> Iterable[TaskProblem]:
    from async_actions.mixins import BaseErrorHandlerMixin  # imports models: Django must be ready

    has_mixin = isinstance(task, BaseErrorHandlerMixin)
    if has_mixin and not _accepts_report_id(task):
        yield TaskProblem(
            task.name,
            f"its base is BaseErrorHandlerMixin but it does not accept {REPORT_ID_KWARG}.",
            f"add **kwargs (or {REPORT_ID_KWARG}=None) to its parameters, or drop the base "
            "and start it with start_action, which needs no change to the task.",
        )
    if not has_mixin and _uses_report_id_kwarg(task):
        yield TaskProblem(
            task.name,
            f"it reads {REPORT_ID_KWARG} from its kwargs (the talk's pattern) without "
            "BaseErrorHandlerMixin, so nothing records its outcome.",
            "use base=<a Task subclass with BaseErrorHandlerMixin>, or better start it with "
            "start_action(...) and drop the kwarg.",
        )


def _project_dirs(tasks: Iterable[Task[Any, Any]]) -> list[Path]:
    """The top-level package folders of the tasks' modules, inside the current project."""
    root = Path.cwd().resolve()
    found: set[Path] = set()
    for task in tasks:
        module = sys.modules.get(getattr(_run(task), "__module__", "") or "")
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if root not in path.parents or "site-packages" in path.parts:
            continue
        top = root / path.relative_to(root).parts[0]
        found.add(top if top.is_dir() else path)
    return sorted(found)


def _check_lint(paths: Iterable[Path]) -> Iterable[TaskProblem]:
    from async_actions.lint import Config, lint_paths

    for finding in lint_paths(list(paths), Config(select=frozenset({"AA106", "AA108"}))):
        # The linter's messages say what is wrong, then (after ". ") how to fix it.
        problem, _, fix = finding.message.partition(". ")
        path = Path(finding.path)
        where = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        yield TaskProblem(f"{where}:{finding.line}", f"{finding.code} {problem.rstrip('.')}.", fix)


def task_problems(
    app: Celery | None = None,
    *,
    samples: Samples | None = None,
    lint_paths: Iterable[str | Path] | None = None,
) -> list[TaskProblem]:
    """Every problem `validate_tasks` would report, as data."""
    tasks = project_tasks(app)
    if not tasks:  # else every check would pass on nothing
        return [
            TaskProblem(
                "(no task)",
                "the Celery app registers no tasks of your own.",
                "call app.autodiscover_tasks() in your celery.py, or pass the app your tasks "
                "use (the ini option async_actions_celery_app).",
            )
        ]
    problems: list[TaskProblem] = []
    for task in tasks:
        problems += _check_importable(task)
        problems += _check_encodable(task, samples or {})
        problems += _check_talk_pattern(task)
    paths = [Path(p) for p in lint_paths] if lint_paths is not None else _project_dirs(tasks)
    if paths:
        problems += _check_lint(paths)
    return problems


def validate_tasks(
    app: Celery | None = None,
    *,
    samples: Samples | None = None,
    lint_paths: Iterable[str | Path] | None = None,
) -> None:
    """Fail with every problem of every registered task, each with how to fix it.

    `app`: the Celery app (the current one by default). `samples`: task name -> (args,
    kwargs) to encode instead of the values built from the task's annotations. `lint_paths`:
    where `async-actions lint` looks for AA106/AA108 (default: the tasks' own packages).
    """
    problems = task_problems(app, samples=samples, lint_paths=lint_paths)
    if problems:
        listed = "\n".join(f"- {problem}" for problem in problems)
        raise AssertionError(f"{len(problems)} problem(s) with Celery tasks:\n{listed}")


def test_registered_tasks(pytestconfig: Any) -> None:
    """The ready-made test: `from async_actions.testing import test_registered_tasks`."""
    from async_actions.testing.plugin import configured_app

    validate_tasks(configured_app(pytestconfig))
