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
        task = sig.app.tasks.get(sig.task or "")
        if task is None or not getattr(task, "typing", True):
            continue  # not ours to check: unknown here, or the task opted out of typing
        parameters = _parameters(task.run)
        if parameters is None:
            continue
        args = tuple(sig.args or ())
        if receives_result:
            args = (_PREVIOUS_RESULT, *args)
        try:
            parameters.bind(*args, **dict(sig.kwargs or {}))
        except TypeError as exc:
            given = "the previous task's result, then " if receives_result else ""
            raise InvalidActionError(
                f"The arguments of {sig.task!r} do not fit its parameters {parameters}: {exc} "
                f"(it would be called with {given}args={tuple(sig.args or ())!r:.200}, "
                f"kwargs={dict(sig.kwargs or {})!r:.200})."
            ) from exc
