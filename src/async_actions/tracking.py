"""The worker side: Celery signals -> status moves of the task's report or workflow step.

A task is tracked when its message carries the report-id stamp that `start_action` puts
on it; every other task costs one dict lookup here. Nothing is kept in worker memory but
the short write-behind of `batching`: the report id travels in the message, the state
lives in the database.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task, signals
from celery.fixups.django import DjangoFixup
from django.db import close_old_connections
from django.utils import timezone

from async_actions import cancelling, steps, transitions
from async_actions.batching import StatusBuffer
from async_actions.conf import aa_settings
from async_actions.selectors import tracking_for_task
from async_actions.signatures import is_step, report_id_from_stamps

logger = logging.getLogger(__name__)

# Large enough that Celery's own per-task close never happens in practice.
_CELERY_DB_REUSE_MAX = 2**31


def _is_eager(task: Task) -> bool:
    return bool(getattr(task.request, "is_eager", False))


def _stamps(request: Any) -> dict[str, Any] | None:
    return getattr(request, "stamps", None)


# -- database hygiene -------------------------------------------------------------------

_manage_connections = False


def on_worker_init(sender: Any = None, **kwargs: Any) -> None:
    """Let Django's CONN_MAX_AGE rules, not Celery's close-every-task, decide on connections."""
    global _manage_connections
    app: Celery | None = getattr(sender, "app", None)
    if app is None or not aa_settings.WORKER_CONN_REUSE:
        return
    for fixup in getattr(app, "_fixups", None) or ():
        if isinstance(fixup, DjangoFixup):
            fixup.worker_fixup.db_reuse_max = _CELERY_DB_REUSE_MAX
            _manage_connections = True


def _close_old_connections(task: Task) -> None:
    if _manage_connections and not _is_eager(task):
        close_old_connections()


# -- write-behind of starts and successes -----------------------------------------------

_buffer: StatusBuffer | None = None


def _status_buffer(task: Task) -> StatusBuffer | None:
    """This process's buffer, or None to write at once (eager runs, interval 0)."""
    global _buffer
    if _is_eager(task) or not aa_settings.TRACKING_FLUSH_INTERVAL:
        return None
    if _buffer is None:
        _buffer = StatusBuffer(interval=aa_settings.TRACKING_FLUSH_INTERVAL)
    return _buffer


def flush_pending_statuses() -> None:
    """Write what this process holds now; called before any move written at once."""
    if _buffer is not None:
        _buffer.flush()


def on_worker_process_init(**kwargs: Any) -> None:
    global _buffer
    _buffer = None  # a forked child starts with no buffer and no writer thread


def on_worker_process_shutdown(**kwargs: Any) -> None:
    global _buffer
    if _buffer is not None:
        _buffer.stop()
        _buffer = None


# -- task life ----------------------------------------------------------------------------


def _record(task: Task, *, finished: bool) -> None:
    """A tracked task started (or finished): write it behind, or at once without a buffer."""
    request = task.request
    stamps = _stamps(request)
    report_id = report_id_from_stamps(stamps)
    if report_id is None:
        return
    attempt, now = request.retries + 1, timezone.now()
    buffer = _status_buffer(task)
    if is_step(stamps):
        if buffer is not None:
            record = buffer.step_finished if finished else buffer.step_started
            record(report_id, request.id, attempt, now)
        elif finished:
            steps.steps_mark_ok(report_ids=[report_id], finished={request.id: (attempt, now)})
        else:
            steps.steps_mark_running(report_ids=[report_id], started={request.id: (attempt, now)})
    elif buffer is not None:
        (buffer.finished if finished else buffer.started)(report_id, attempt, now)
    elif finished:
        transitions.report_mark_ok(report_id=report_id)
    else:
        transitions.report_mark_running(report_id=report_id, attempt=attempt)


def on_task_prerun(sender: Task, **kwargs: Any) -> None:
    _close_old_connections(sender)
    _record(sender, finished=False)


def on_task_success(sender: Task, **kwargs: Any) -> None:
    _record(sender, finished=True)


def on_task_retry(sender: Task, request: Any = None, reason: Any = None, **kwargs: Any) -> None:
    report_id = report_id_from_stamps(_stamps(request))
    if report_id is None:
        return
    flush_pending_statuses()
    # `reason` is Celery's Retry; the error worth showing is the one it wraps.
    error = _describe(getattr(reason, "exc", None) or reason)
    attempt = (request.retries or 0) + 1
    if is_step(_stamps(request)):
        steps.step_mark_retrying(
            report_id=report_id, task_id=request.id, attempt=attempt, error=error
        )
    else:
        transitions.report_mark_retrying(report_id=report_id, attempt=attempt, error=error)


def on_task_failure(
    sender: Task,
    task_id: str | None = None,
    exception: BaseException | None = None,
    einfo: Any = None,
    **kwargs: Any,
) -> None:
    if not task_id:
        return
    if sender.request.id == task_id:
        report_id = report_id_from_stamps(_stamps(sender.request))
        step = is_step(_stamps(sender.request))
    else:
        # Sent by the worker's main process (a killed child, a hard time limit): no request
        # context here, so look the task up by its id.
        report_id, step = tracking_for_task(task_id)
    if report_id is None:
        return
    flush_pending_statuses()
    error = {
        "error_type": type(exception).__name__ if exception is not None else "Error",
        "error_message": _describe(exception),
        "error_traceback": str(einfo.traceback) if einfo is not None else "",
    }
    if step:
        steps.step_mark_failed(report_id=report_id, task_id=task_id, **error)
    else:
        transitions.report_mark_failed(report_id=report_id, **error)


def on_task_revoked(
    sender: Any = None,
    request: Any = None,
    terminated: bool = False,
    signum: Any = None,
    expired: bool = False,
    **kwargs: Any,
) -> None:
    if request is None:
        return
    report_id = report_id_from_stamps(_stamps(request))
    step = is_step(_stamps(request))
    if report_id is None:
        report_id, step = tracking_for_task(request.id)
    if report_id is None:
        return
    if expired:
        reason = "Expired before a worker could run it."
    elif terminated:
        reason = f"Terminated by signal {signum}."
    else:
        reason = "Revoked before it ran."
    flush_pending_statuses()
    if step:
        steps.step_mark_cancelled(task_id=request.id, reason=reason)
        cancelling.steps_mark_skipped(report_id=report_id)
    transitions.report_mark_cancelled(report_id=report_id, reason=reason)


def on_task_postrun(sender: Task, **kwargs: Any) -> None:
    _close_old_connections(sender)


def _describe(exc: Any) -> str:
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc) if exc is not None else ""


def connect_signals() -> None:
    """Connect the handlers once (weak=False: they are module functions, kept alive anyway)."""
    uid = "async_actions.tracking"
    handlers = {
        signals.worker_init: on_worker_init,
        signals.task_received: cancelling.on_task_received,
        signals.task_prerun: on_task_prerun,
        signals.task_retry: on_task_retry,
        signals.task_success: on_task_success,
        signals.task_failure: on_task_failure,
        signals.task_revoked: on_task_revoked,
        signals.task_postrun: on_task_postrun,
        signals.worker_process_init: on_worker_process_init,
        signals.worker_process_shutdown: on_worker_process_shutdown,
        # Solo and thread pools run tasks in the main process, which has no process_shutdown.
        signals.worker_shutdown: on_worker_process_shutdown,
    }
    for signal, handler in handlers.items():
        signal.connect(handler, weak=False, dispatch_uid=f"{uid}.{signal.name}")
