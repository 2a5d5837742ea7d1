"""Do a workflow's arguments fit its tasks? Checked in the caller, before anything is recorded.

Celery checks the arguments of a task only when it publishes it (`Task.typing`), which for
`start_action` is after the commit: a wrong argument count would strand the report. So each
task's arguments are bound to its `run` parameters here, the way Celery will call it - a
task after another in a chain (or a chord's body) gets the previous result as its first
argument, unless its signature is immutable (`.si()`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from celery.canvas import Signature, _chain, chord, group

from async_actions._celery_internals import argument_checker
from async_actions.errors import InvalidActionError

_PREVIOUS_RESULT = object()


@lru_cache(maxsize=2048)
def _parameters(run: Callable[..., Any]) -> inspect.Signature | None:
    """The parameters of a task's `run`, once per task (None when Python cannot tell)."""
    try:
        return inspect.signature(run)
    except (TypeError, ValueError):
        return None


def calls(sig: Signature, receives_result: bool = False) -> Iterator[tuple[Signature, bool]]:
    """(task signature, called with the previous result first?) for each task of a canvas."""
    if isinstance(sig, chord):
        header = sig.tasks if isinstance(sig.tasks, group) else group(sig.tasks)
        yield from calls(header, receives_result)
        yield from calls(sig.body, True)
    elif isinstance(sig, group):
        for member in sig.tasks:
            yield from calls(member, receives_result)
    elif isinstance(sig, _chain):
        for index, task in enumerate(sig.tasks):
            yield from calls(task, receives_result if index == 0 else True)
    else:
        yield sig, receives_result and not sig.immutable


def check_arguments(signature: Signature) -> None:
    """Raise InvalidActionError naming the task whose arguments do not fit its parameters."""
    for sig, receives_result in calls(signature):
        check_task_arguments(sig, receives_result=receives_result)


def check_task_arguments(sig: Signature, *, receives_result: bool) -> None:
    """The same for one task's signature (`receives_result`: a previous task's result first)."""
    task = sig.app.tasks.get(sig.task or "")
    if task is None or not getattr(task, "typing", True):
        return  # not ours to check: unknown here, or the task opted out of typing
    args = tuple(sig.args or ())
    kwargs = dict(sig.kwargs or {})
    if receives_result:
        args = (_PREVIOUS_RESULT, *args)
    try:
        _bind(task, args, kwargs)
    except TypeError as exc:
        given = "the previous task's result, then " if receives_result else ""
        raise InvalidActionError(
            f"The arguments of {sig.task!r} do not fit its parameters "
            f"{_parameters(task.run) or '(unknown)'}: {exc} "
            f"(it would be called with {given}args={tuple(sig.args or ())!r:.200}, "
            f"kwargs={dict(sig.kwargs or {})!r:.200})."
        ) from exc


def _bind(task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Raise TypeError if `run` cannot be called so, the way Celery checks when it publishes.

    Celery's own checker (a function with the task's parameters, for function-based
    tasks) costs a plain call; class-based tasks are bound with inspect.
    """
    checker = argument_checker(task)
    if checker is not None:
        checker(*args, **kwargs)
        return
    parameters = _parameters(task.run)
    if parameters is not None:
        parameters.bind(*args, **kwargs)
