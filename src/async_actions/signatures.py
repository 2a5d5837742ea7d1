"""Checking and stamping what `start_action` is given, before anything is recorded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from celery.canvas import Signature
from kombu.exceptions import EncodeError
from kombu.serialization import dumps

from async_actions._celery_internals import plain_task, stamp_task_options
from async_actions.binding import check_arguments, check_task_arguments
from async_actions.canvas import StepSpec, leaves, needs_chords
from async_actions.errors import InvalidActionError

# Every message of an action carries its report's id in one stamp, whose name says how the
# task is tracked: on the report (a single-task action) or as a step (a workflow's task).
# One short stamp, not two long ones: a chain's message carries every step still to come,
# each with its stamps, and each step decodes and encodes them again.
REPORT_ID_STAMP = "aa_report"
STEP_STAMP = "aa_step"
# Messages sent by earlier versions (still in a queue when a worker is upgraded): the
# report id in every task, plus a flag on a workflow's tasks.
LEGACY_REPORT_ID_STAMP = "async_action_report_id"
LEGACY_STEP_STAMP = "async_action_step"


def check_signature(
    signature: Any, *, caller: str = "start_action()", json_encodable: bool = False
) -> list[StepSpec]:
    """Fail now, with a clear message, on anything the broker or the worker would reject later.

    Returns the tasks of the signature or canvas, in workflow order. `json_encodable`: the
    caller has encoded the whole signature with kombu's JSON (its arguments need no check
    of their own for tasks sent as JSON).
    """
    if not isinstance(signature, Signature):
        raise InvalidActionError(
            f"{caller} needs a Celery signature or canvas such as my_task.s(1, 2), "
            f"got {type(signature).__name__}: {signature!r:.100}"
        )
    if plain_task(signature):  # one task, the common case: no canvas to walk
        check_task(signature, json_encodable=json_encodable)
        return [StepSpec(signature=signature, position=0, branch="")]
    steps = leaves(signature)
    if not steps:
        raise InvalidActionError(f"{caller} was given an empty workflow: it has no tasks.")
    for number, step in enumerate(steps, start=1):
        if not isinstance(step.signature, Signature):
            raise InvalidActionError(
                f"Task {number} of the workflow is not a signature: {step.signature!r:.100}"
            )
        _check_task(step.signature, json_encodable=json_encodable)
    check_arguments(signature)
    if needs_chords(signature):
        try:
            signature.app.backend.ensure_chords_allowed()
        except NotImplementedError as exc:
            raise InvalidActionError(f"This workflow cannot be started: {exc}") from exc
    return steps


# (app, task name) -> the task's serializer, for tasks found registered: the registry is
# looked up once per task name, not on every start. Misses are not kept (a module may
# register the task later).
_registered: dict[tuple[Any, str], str] = {}


def _task_serializer(app: Any, name: str) -> str:
    serializer = _registered.get((app, name))
    if serializer is None:
        if name not in app.tasks:
            raise InvalidActionError(
                f"Task {name!r} is not registered with Celery app {app.main!r}: check its name, "
                f"and that its module is imported (autodiscover_tasks finds <app>/tasks.py)."
            )
        serializer = _registered[(app, name)] = app.tasks[name].serializer
    return serializer


def check_task(signature: Signature, *, json_encodable: bool = False) -> None:
    """The checks of one task's signature: registered, arguments encodable and fitting."""
    _check_task(signature, json_encodable=json_encodable)
    check_task_arguments(signature, receives_result=False)


def _check_task(signature: Signature, *, json_encodable: bool) -> None:
    name = str(signature.task)
    serializer = signature.options.get("serializer") or _task_serializer(signature.app, name)
    if serializer == "json" and json_encodable:
        return  # the caller encoded the whole signature as JSON already
    try:
        dumps((signature.args, signature.kwargs), serializer=serializer)
    except EncodeError as exc:
        raise InvalidActionError(
            f"The arguments of {name!r} cannot be encoded with the {serializer!r} serializer: "
            f"{exc}. Pass ids and plain values, not objects."
        ) from exc


def stamp_steps(steps: Iterable[StepSpec], report_id: int) -> None:
    """Stamp every task of a workflow as a step of its report."""
    for step in steps:
        stamp_task(step.signature, report_id, step=True)


def stamp_task(signature: Signature, report_id: int, *, step: bool) -> None:
    stamps: dict[str, Any] = {STEP_STAMP if step else REPORT_ID_STAMP: report_id}
    if plain_task(signature):
        stamp_task_options(signature, stamps)  # what stamp() does, at a fraction of its cost
    else:
        signature.stamp(**stamps)


def is_step(stamps: dict[str, Any] | None) -> bool:
    return bool(stamps and (stamps.get(STEP_STAMP) or stamps.get(LEGACY_STEP_STAMP)))


def report_id_from_stamps(stamps: dict[str, Any] | None) -> int | None:
    """The report id a task message carries, or None for a task started without a report."""
    if not stamps:
        return None
    value = stamps.get(STEP_STAMP) or stamps.get(REPORT_ID_STAMP)
    if value is None:
        value = stamps.get(LEGACY_REPORT_ID_STAMP)
    if isinstance(value, list):  # re-stamping (retries, replace) can turn a stamp into a list
        value = value[-1] if value else None
    return int(value) if value is not None else None
