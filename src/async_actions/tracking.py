"""The worker side: Celery signals -> status moves of the task's report.

A task is tracked when its message carries the report-id stamp that `start_action` puts
on it; every other task costs one dict lookup here. Nothing is kept in worker memory: the
report id travels in the message, the state lives in the database.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task, signals
from celery.fixups.django import DjangoFixup
from django.db import close_old_connections
from django.utils import timezone

from async_actions.batching import StatusBuffer
from async_actions.conf import aa_settings
from async_actions.selectors import report_id_for_task
from async_actions.signatures import report_id_from_stamps
from async_actions.transitions import (
    report_mark_cancelled,
    report_mark_failed,
    report_mark_ok,
    report_mark_retrying,
    report_mark_running,
)

logger = logging.getLogger(__name__)

# Large enough that Celery's own per-task close never happens in practice.
_CELERY_DB_REUSE_MAX = 2**31


def _tracked_report_id(task: Task) -> int | None:
    return report_id_from_stamps(getattr(task.request, "stamps", None))


def _is_eager(task: Task) -> bool:
    return bool(getattr(task.request, "is_eager", False))


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


def on_task_prerun(sender: Task, **kwargs: Any) -> None:
    _close_old_connections(sender)
    report_id = _tracked_report_id(sender)
    if report_id is None:
        return
    attempt = sender.request.retries + 1
    buffer = _status_buffer(sender)
    if buffer is None:
        report_mark_running(report_id=report_id, attempt=attempt)
    else:
        buffer.started(report_id, attempt, timezone.now())


def on_task_retry(sender: Task, request: Any = None, reason: Any = None, **kwargs: Any) -> None:
    report_id = report_id_from_stamps(getattr(request, "stamps", None))
    if report_id is not None:
        flush_pending_statuses()
        # `reason` is Celery's Retry; the error worth showing is the one it wraps.
        error = getattr(reason, "exc", None) or reason
        report_mark_retrying(
            report_id=report_id, attempt=(request.retries or 0) + 1, error=_describe(error)
        )


def on_task_success(sender: Task, **kwargs: Any) -> None:
    report_id = _tracked_report_id(sender)
    if report_id is None:
        return
    buffer = _status_buffer(sender)
    if buffer is None:
        report_mark_ok(report_id=report_id)
    else:
        buffer.finished(report_id, sender.request.retries + 1, timezone.now())


def on_task_failure(
    sender: Task,
    task_id: str | None = None,
    exception: BaseException | None = None,
    einfo: Any = None,
    **kwargs: Any,
) -> None:
    if sender.request.id == task_id:
        report_id = _tracked_report_id(sender)
    else:
        # Sent by the worker's main process (a killed child, a hard time limit): no request
        # context here, so find the report by its task id.
        report_id = report_id_for_task(task_id) if task_id else None
    if report_id is not None:
        flush_pending_statuses()
        report_mark_failed(
            report_id=report_id,
            error_type=type(exception).__name__ if exception is not None else "Error",
            error_message=_describe(exception),
            error_traceback=str(einfo.traceback) if einfo is not None else "",
        )


def on_task_revoked(
    sender: Any = None,
    request: Any = None,
    terminated: bool = False,
    signum: Any = None,
    expired: bool = False,
    **kwargs: Any,
) -> None:
    report_id = report_id_from_stamps(getattr(request, "stamps", None))
    if report_id is None and request is not None:
        report_id = report_id_for_task(request.id)
    if report_id is None:
        return
    if expired:
        reason = "Expired before a worker could run it."
    elif terminated:
        reason = f"Terminated by signal {signum}."
    else:
        reason = "Revoked before it ran."
    flush_pending_statuses()
    report_mark_cancelled(report_id=report_id, reason=reason)


def on_task_postrun(sender: Task, **kwargs: Any) -> None:
    _close_old_connections(sender)


def _describe(exc: Any) -> str:
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc) if exc is not None else ""


def connect_signals() -> None:
    """Connect the handlers once (weak=False: they are module functions, kept alive anyway)."""
    uid = "async_actions.tracking"
    signals.worker_init.connect(on_worker_init, weak=False, dispatch_uid=f"{uid}.init")
    signals.task_prerun.connect(on_task_prerun, weak=False, dispatch_uid=f"{uid}.prerun")
    signals.task_retry.connect(on_task_retry, weak=False, dispatch_uid=f"{uid}.retry")
    signals.task_success.connect(on_task_success, weak=False, dispatch_uid=f"{uid}.success")
    signals.task_failure.connect(on_task_failure, weak=False, dispatch_uid=f"{uid}.failure")
    signals.task_revoked.connect(on_task_revoked, weak=False, dispatch_uid=f"{uid}.revoked")
    signals.task_postrun.connect(on_task_postrun, weak=False, dispatch_uid=f"{uid}.postrun")
    signals.worker_process_init.connect(
        on_worker_process_init, weak=False, dispatch_uid=f"{uid}.process_init"
    )
    signals.worker_process_shutdown.connect(
        on_worker_process_shutdown, weak=False, dispatch_uid=f"{uid}.process_shutdown"
    )
    # Solo and thread pools run tasks in the main process, which has no process_shutdown.
    signals.worker_shutdown.connect(
        on_worker_process_shutdown, weak=False, dispatch_uid=f"{uid}.shutdown"
    )
