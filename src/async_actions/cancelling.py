"""Cancelling an action: the request (a caller's write) and the worker's own check.

A cancel never writes `cancelled` over work that may still succeed. `report_request_cancel`
only records when it was asked (`cancel_requested_at`) and revokes the action's messages;
the status moves to `cancelled` when a worker really skips or stops a task (Celery's
`task_revoked`), and a step that was already running finishes as what it really did.

Revoking needs the worker's remote control, which some transports lack (the filesystem
one). So the worker checks for itself: when a tracked task's message arrives, one read by
primary key tells whether its action was asked to stop; if so, the task id goes into the
worker's own revoked set and Celery skips it exactly like a revoked task. Workers with
remote control skip that read: the revoke broadcast reaches them. (A `task_prerun`
handler cannot do this: Celery logs and ignores exceptions raised by signal handlers, so
the task would run anyway.) Untracked tasks pay one dictionary lookup.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from celery import current_app
from django.db import DatabaseError, close_old_connections, connections, router
from django.utils import timezone

from async_actions.conf import aa_settings
from async_actions.models import (
    ACTIVE_STATUSES,
    STEP_ACTIVE_STATUSES,
    AsyncActionReport,
    AsyncActionStep,
    StepStatus,
)
from async_actions.signatures import report_id_from_stamps

SKIPPED_REASON = "Not run: its action was cancelled."


def report_request_cancel(report: AsyncActionReport, *, terminate: bool | None = None) -> bool:
    """Ask the action to stop; False if it had already finished (nothing is changed then)."""
    requested = AsyncActionReport.objects.filter(
        pk=report.pk, status__in=ACTIVE_STATUSES, cancel_requested_at__isnull=True
    ).update(cancel_requested_at=timezone.now())
    if (
        not requested
        and not AsyncActionReport.objects.filter(pk=report.pk, status__in=ACTIVE_STATUSES).exists()
    ):
        return False
    if terminate is None:
        terminate = aa_settings.CANCEL_TERMINATES
    task_ids = [report.task_id, *_unfinished_step_task_ids(report.pk)]
    # By task id, every id being a UUID frozen at start: queued messages are skipped by any
    # worker that hears the broadcast, running ones revoked (killed only where allowed).
    # Not by the report-id stamp: report ids repeat across databases that share a broker
    # (staging and production, parallel test runs), and a stamp revoke would reach theirs.
    current_app.control.revoke([t for t in task_ids if t], terminate=terminate)
    return True


def _unfinished_step_task_ids(report_id: int) -> list[str]:
    return list(
        AsyncActionStep.objects.filter(
            report_id=report_id, status__in=STEP_ACTIVE_STATUSES
        ).values_list("task_id", flat=True)
    )


def cancel_requested(report_id: int) -> bool:
    """One read by primary key: was this action asked to stop?

    Plain SQL: on this per-message path, building an ORM query costs several times the
    indexed read itself (measured: ~4x; see docs/dashboard.md).
    """
    alias = router.db_for_read(AsyncActionReport)
    with connections[alias].cursor() as cursor:
        cursor.execute(_cancel_requested_sql(alias), [report_id])
        return cursor.fetchone() is not None


@cache
def _cancel_requested_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    meta = AsyncActionReport._meta
    table = quote(meta.db_table)
    pk = quote(str(meta.get_field("id").column))
    column = quote(str(meta.get_field("cancel_requested_at").column))
    # Only our own table and column names go into the text; the id is a parameter.
    return f"SELECT 1 FROM {table} WHERE {pk} = %s AND {column} IS NOT NULL"  # noqa: S608


def on_task_received(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    """In the worker's main process, before the task is handed to the pool."""
    report_id = report_id_from_stamps(getattr(request, "stamps", None))
    if report_id is None or _remote_control_enabled(sender):
        return
    try:
        requested = cancel_requested(report_id)
    except DatabaseError:
        # The main process has no request cycle to drop a broken connection: do it here, so
        # the next check reconnects. This task runs (Celery logs the error).
        close_old_connections()
        raise
    if not requested:
        return
    from celery.worker import state

    # What a remote revoke does; Celery then skips the task and sends task_revoked.
    state.revoked.add(request.id)


# app -> its worker_enable_remote_control, read once: a Celery setting lookup costs more
# than the rest of this handler, and a worker decides remote control once, when it starts.
_remote_control: dict[Any, bool] = {}


def _remote_control_enabled(consumer: Any) -> bool:
    """Where `cancel_action`'s revoke broadcasts reach the worker, they already skip the
    action's tasks (by its stamp, remembered by every worker that heard it), so the hot
    path pays no read; only workers without remote control check for themselves."""
    app = getattr(consumer, "app", None) or current_app
    enabled = _remote_control.get(app)
    if enabled is None:
        enabled = _remote_control[app] = bool(app.conf.worker_enable_remote_control)
    return enabled


def steps_mark_skipped(*, report_id: int) -> int:
    """The action was cancelled: its steps that never started will not run."""
    return AsyncActionStep.objects.filter(
        report_id=report_id, status=StepStatus.PENDING, started_at__isnull=True
    ).update(status=StepStatus.CANCELLED, finished_at=timezone.now(), error_message=SKIPPED_REASON)
