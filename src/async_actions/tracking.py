"""The worker side: Celery signals -> status moves, through the process's tracker.

A task is tracked when its message carries the report-id stamp that `start_action` puts
on it; every other task costs one dict lookup here. Each worker process installs its own
tracker when it starts (its write-behind buffer and connection policy live there, not
in module globals): the report id travels in the message, the state lives in the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from traceback import format_exception
from typing import Any

from celery import Celery, Task, signals, states
from celery.utils.dispatch import Signal
from django.db import DatabaseError
from django.utils import timezone

from async_actions import cancelling
from async_actions._celery_internals import django_fixups, set_db_reuse_max
from async_actions.backlog import close_connections
from async_actions.conf import aa_settings
from async_actions.heartbeats import worker_name
from async_actions.selectors import tracking_for_task
from async_actions.signatures import is_step, report_id_from_stamps
from async_actions.spill import spill_success
from async_actions.tracker import Tracker, get_tracker, install_tracker

logger = logging.getLogger(__name__)

# The task whose success postrun just recorded, for task_internal_error, which Celery
# sends after postrun when the result backend then failed (per thread: the thread pool).
_succeeded = threading.local()

# Large enough that Celery's own per-task close never happens in practice.
_CELERY_DB_REUSE_MAX = 2**31


def _stamps(request: Any) -> dict[str, Any] | None:
    if isinstance(request, dict):  # the raw request a task_internal_error handler gets
        stamps: dict[str, Any] | None = request.get("stamps")
        return stamps
    return getattr(request, "stamps", None)


# -- the process's tracker ------------------------------------------------------------------


def _worker_tracker(*, manage_connections: bool, runs_tasks: bool = True) -> Tracker:
    """A worker process's tracker: write-behind, kept writes, and (if it runs tasks) a heartbeat."""
    tracker = Tracker(
        flush_interval=aa_settings.TRACKING_FLUSH_INTERVAL,
        manage_connections=manage_connections,
        worker=worker_name(),
        keep_writes=True,
        keeps_connections=runs_tasks,
    )
    if runs_tasks:
        tracker.start_heartbeat(interval=aa_settings.HEARTBEAT_INTERVAL)
    return tracker


def _forks_children(worker: Any) -> bool:
    """Whether the worker's pool forks processes that run the tasks (prefork)."""
    pool = getattr(worker, "pool_cls", None)
    return "prefork" in f"{getattr(pool, '__module__', '')}.{getattr(pool, '__name__', pool)}"


def on_worker_init(sender: Any = None, **kwargs: Any) -> None:
    """The worker's main process (which runs tasks itself in the solo and thread pools)."""
    app: Celery | None = getattr(sender, "app", None)
    manage = False
    if app is not None and aa_settings.WORKER_CONN_REUSE:
        for fixup in django_fixups(app):
            set_db_reuse_max(fixup, _CELERY_DB_REUSE_MAX)
            manage = True
    # A prefork main process runs no task, and a thread of its own (a heartbeat holding a
    # lock or a database connection at the moment it forks) could hang or corrupt a child.
    install_tracker(
        _worker_tracker(manage_connections=manage, runs_tasks=not _forks_children(sender))
    )


# How long a prefork main process keeps a database connection Celery's own result backend
# opened (revokes, a killed child's failure): a connection the database dropped meanwhile
# fails the next use there, and a failure in the consumer stops the whole worker.
MAIN_PROCESS_CONNECTION_SECONDS = 1.0


def on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    """In a prefork main process: close its database connections every second, in its loop."""
    timer = getattr(sender, "timer", None)
    if timer is not None and not get_tracker().keeps_connections:
        timer.call_repeatedly(MAIN_PROCESS_CONNECTION_SECONDS, close_connections)


def on_worker_process_init(**kwargs: Any) -> None:
    # A forked child gets a tracker of its own (no inherited buffer, writer or heartbeat
    # thread, and a name with its own pid), with the connection policy its parent decided.
    parent = get_tracker()
    install_tracker(
        _worker_tracker(manage_connections=parent.manage_connections), stop_previous=False
    )


def on_worker_process_shutdown(**kwargs: Any) -> None:
    install_tracker(None)  # stops the tracker, writing what it holds


# -- task life ----------------------------------------------------------------------------


def _record(
    tracker: Tracker, task: Task[Any, Any], request: Any, *, eager: bool, finished: bool
) -> None:
    """A tracked task started (or finished): written behind, or at once."""
    stamps = getattr(request, "stamps", None)
    report_id = report_id_from_stamps(stamps)
    if report_id is None:
        return
    task_id = request.id if is_step(stamps) else None
    attempt = request.retries + 1
    now = timezone.now()
    if finished:
        what = f"success of report {report_id}"
        if task.acks_late:  # durable before the ack (see _DurableSuccess)
            queue = (getattr(request, "delivery_info", None) or {}).get("routing_key")
            moved = {"report_id": report_id, "task_id": task_id, "attempt": attempt, "now": now}
            moved["eager"] = eager
            tracker.write(_DurableSuccess(tracker, task.app, queue, moved), what=what)
            return
        call = partial(
            tracker.task_succeeded,
            report_id=report_id,
            task_id=task_id,
            attempt=attempt,
            now=now,
            eager=eager,
        )
        tracker.write(call, what=what)
    else:
        delivery_info = getattr(request, "delivery_info", None) or {}
        call = partial(
            tracker.task_started,
            report_id=report_id,
            task_id=task_id,
            attempt=attempt,
            now=now,
            eager=eager,
            redelivered=bool(delivery_info.get("redelivered")),
        )
        tracker.write(call, what=f"start of report {report_id}")


class _DurableSuccess:
    """Acknowledged late: the success is written before the task returns, so before the ack
    (a kill -9 right after cannot take finished work with it). With the database down it is
    kept in the broker instead, once (see async_actions.spill); the retry backlog runs this
    again until the database takes it."""

    def __init__(
        self, tracker: Tracker, app: Celery, queue: str | None, common: dict[str, Any]
    ) -> None:
        self.tracker, self.app, self.queue, self.common = tracker, app, queue, common
        self.spilled = False

    def __call__(self) -> None:
        try:
            self.tracker.task_succeeded(**self.common, durable=True)
        except DatabaseError:
            if not self.spilled:
                self.spilled = spill_success(self.app, queue=self.queue, **self.common)
            raise  # the buffer and the retry backlog keep their copies too


def on_task_prerun(sender: Task[Any, Any], **kwargs: Any) -> None:
    # The request is read once: Task.request looks it up on Celery's request stack.
    request = sender.request
    eager = bool(getattr(request, "is_eager", False))
    tracker = get_tracker()
    tracker.around_task(eager=eager)
    _record(tracker, sender, request, eager=eager, finished=False)


def on_task_retry(
    sender: Task[Any, Any], request: Any = None, reason: Any = None, **kwargs: Any
) -> None:
    report_id = report_id_from_stamps(_stamps(request))
    if report_id is None:
        return
    tracker = get_tracker()
    # `reason` is Celery's Retry; the error worth showing is the one it wraps.
    error = _describe(getattr(reason, "exc", None) or reason)
    attempt = (request.retries or 0) + 1
    step_task_id = request.id if is_step(_stamps(request)) else None
    not_before = _retry_at(getattr(reason, "when", None))

    def write() -> None:
        tracker.flush()
        if step_task_id is not None:
            tracker.step_retry(
                report_id=report_id,
                task_id=step_task_id,
                attempt=attempt,
                error=error,
                not_before=not_before,
            )
        else:
            tracker.retry(report_id=report_id, attempt=attempt, error=error, not_before=not_before)

    tracker.write(write, what=f"retry of report {report_id}")


def on_task_failure(
    sender: Task[Any, Any],
    task_id: str | None = None,
    exception: BaseException | None = None,
    einfo: Any = None,
    **kwargs: Any,
) -> None:
    if not task_id:
        return
    tracker = get_tracker()
    if sender.request.id == task_id:
        report_id = report_id_from_stamps(_stamps(sender.request))
        if report_id is None:
            return
        step = is_step(_stamps(sender.request))
    else:
        # Sent by the worker's main process (a killed child, a hard time limit): no request
        # context here, so the task is looked up by its id (in the write: it reads).
        report_id, step = None, False
    traceback = str(einfo.traceback) if einfo is not None else ""
    _record_failure(tracker, task_id, report_id, step, exception, traceback)


def _record_failure(
    tracker: Tracker,
    task_id: str,
    report_id: int | None,
    step: bool,
    exception: BaseException | None,
    traceback: str,
) -> None:
    write = partial(
        _write_failure,
        tracker,
        task_id,
        report_id,
        step,
        error_type=type(exception).__name__ if exception is not None else "Error",
        message=_describe(exception),
        traceback=traceback,
    )
    tracker.write(write, what=f"failure of task {task_id}")


def _write_failure(
    tracker: Tracker,
    task_id: str,
    report_id: int | None,
    step: bool,
    *,
    error_type: str,
    message: str,
    traceback: str,
) -> None:
    if report_id is None:
        report_id, step = tracking_for_task(task_id)
        if report_id is None:
            return
    tracker.flush()
    if step:
        tracker.step_fail(
            report_id=report_id,
            task_id=task_id,
            error_type=error_type,
            error_message=message,
            error_traceback=traceback,
        )
    else:
        tracker.fail(
            report_id=report_id,
            error_type=error_type,
            error_message=message,
            error_traceback=traceback,
        )


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
    tracker = get_tracker()
    tracker.write(
        partial(_write_revoked, tracker, request, terminated, signum, expired),
        what=f"cancellation of task {request.id}",
    )


def _write_revoked(
    tracker: Tracker, request: Any, terminated: bool, signum: Any, expired: bool
) -> None:
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
    tracker.flush()
    if step:
        tracker.step_cancel(task_id=request.id, reason=reason)
        cancelling.steps_mark_skipped(report_id=report_id)
    tracker.cancel(report_id=report_id, reason=reason)


def on_task_postrun(sender: Task[Any, Any], state: str | None = None, **kwargs: Any) -> None:
    # The success is recorded here, not at task_success: Celery sends that one only after
    # the result backend stored the result, so a database result backend that cannot write
    # (the database is down) would take the success with it. postrun comes in any case,
    # still before the message is acknowledged.
    request = sender.request
    eager = bool(getattr(request, "is_eager", False))
    tracker = get_tracker()
    if state == states.SUCCESS:
        _succeeded.task_id = request.id
        _record(tracker, sender, request, eager=eager, finished=True)
    tracker.around_task(eager=eager)


def on_task_internal_error(
    sender: Task[Any, Any],
    task_id: str | None = None,
    request: Any = None,
    exception: BaseException | None = None,
    einfo: Any = None,
    **kwargs: Any,
) -> None:
    """Celery failed outside the task's body: most often the result backend could not write.

    A success is already recorded (postrun). A body that raised has no task_failure then
    (Celery's failure handling stopped at the backend), so its error, the first of the
    chain of exceptions, is recorded here.
    """
    succeeded, _succeeded.task_id = getattr(_succeeded, "task_id", None), None
    report_id = report_id_from_stamps(_stamps(request))
    if report_id is None or not task_id or succeeded == task_id:
        return
    first = exception
    while first is not None and first.__context__ is not None:
        first = first.__context__
    trace = "".join(format_exception(first)) if first is not None else ""
    _record_failure(get_tracker(), task_id, report_id, is_step(_stamps(request)), first, trace)


def _retry_at(when: Any) -> datetime:
    """When the next attempt may run: Retry.when is a countdown in seconds or an ETA."""
    now = timezone.now()
    if isinstance(when, datetime):
        return when if timezone.is_aware(when) else timezone.make_aware(when, UTC)
    if isinstance(when, int | float) and not isinstance(when, bool):
        return now + timedelta(seconds=when)
    return now


def _describe(exc: Any) -> str:
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc) if exc is not None else ""


def connect_signals() -> None:
    """Connect the handlers once (weak=False: they are module functions, kept alive anyway)."""
    uid = "async_actions.tracking"
    handlers: dict[Signal, Callable[..., None]] = {
        signals.worker_init: on_worker_init,
        signals.worker_ready: on_worker_ready,
        signals.task_received: cancelling.on_task_received,
        signals.task_prerun: on_task_prerun,
        signals.task_retry: on_task_retry,
        signals.task_failure: on_task_failure,
        signals.task_revoked: on_task_revoked,
        signals.task_postrun: on_task_postrun,
        signals.task_internal_error: on_task_internal_error,
        signals.worker_process_init: on_worker_process_init,
        signals.worker_process_shutdown: on_worker_process_shutdown,
        # Solo and thread pools run tasks in the main process, which has no process_shutdown.
        signals.worker_shutdown: on_worker_process_shutdown,
    }
    for signal, handler in handlers.items():
        # celery-types does not declare Signal.name; Celery has always set it.
        name = getattr(signal, "name", handler.__name__)
        signal.connect(handler, weak=False, dispatch_uid=f"{uid}.{name}")
