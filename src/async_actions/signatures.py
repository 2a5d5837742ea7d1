"""Checking and stamping what `start_action` is given, before anything is recorded."""

from __future__ import annotations

from typing import Any

from celery.canvas import Signature
from kombu.exceptions import EncodeError
from kombu.serialization import dumps

from async_actions.errors import InvalidActionError

# The stamp that carries a report's id in every message of its action.
REPORT_ID_STAMP = "async_action_report_id"


def check_signature(signature: Any) -> Signature:
    """Fail now, with a clear message, on anything the broker or the worker would reject later."""
    if not isinstance(signature, Signature):
        raise InvalidActionError(
            f"start_action() needs a Celery signature such as my_task.s(1, 2), "
            f"got {type(signature).__name__}: {signature!r:.100}"
        )
    app = signature.app
    name = signature.task
    if name not in app.tasks:
        raise InvalidActionError(
            f"Task {name!r} is not registered with Celery app {app.main!r}: check its name, "
            f"and that its module is imported (autodiscover_tasks finds <app>/tasks.py)."
        )
    serializer = signature.options.get("serializer") or app.tasks[name].serializer
    try:
        dumps((signature.args, signature.kwargs), serializer=serializer)
    except EncodeError as exc:
        raise InvalidActionError(
            f"The arguments of {name!r} cannot be encoded with the {serializer!r} serializer: "
            f"{exc}. Pass ids and plain values, not objects."
        ) from exc
    return signature


def report_id_from_stamps(stamps: dict[str, Any] | None) -> int | None:
    """The report id a task message carries, or None for a task started without a report."""
    if not stamps:
        return None
    value = stamps.get(REPORT_ID_STAMP)
    if isinstance(value, list):  # re-stamping (retries, replace) can turn a stamp into a list
        value = value[-1] if value else None
    return int(value) if value is not None else None
