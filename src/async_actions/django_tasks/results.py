"""Reads: an AsyncActionReport seen as DEP 14's TaskResult.

Our statuses map onto DEP 14's four. DEP 14 has no "cancelled" or "lost": both are FAILED,
with one error whose class says which (ActionCancelled, ActionLost) and whose traceback is
the reason we recorded.
"""

from __future__ import annotations

import builtins
import dataclasses
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string

from async_actions.django_tasks._compat import (
    Task,
    TaskError,
    TaskResult,
    TaskResultDoesNotExist,
    TaskResultStatus,
    class_path,
)
from async_actions.errors import ActionCancelled, ActionFailed, ActionLost
from async_actions.models import AsyncActionReport, Status

# Every one of our statuses has a DEP 14 status (a test keeps this complete).
STATUS_MAP: dict[str, Any] = {
    Status.PENDING: TaskResultStatus.READY,
    Status.RETRYING: TaskResultStatus.READY,  # DEP 14: "ready to be executed again"
    Status.RUNNING: TaskResultStatus.RUNNING,
    Status.OK: TaskResultStatus.SUCCESSFUL,
    Status.FAILED: TaskResultStatus.FAILED,
    Status.CANCELLED: TaskResultStatus.FAILED,
    Status.LOST: TaskResultStatus.FAILED,
}
# A final status with no exception of the task's own, told by the class of its one error.
_STATUS_ERRORS: dict[str, type[BaseException]] = {
    Status.CANCELLED: ActionCancelled,
    Status.LOST: ActionLost,
}
# Only these columns are needed to build a result: the report's other text stays unread.
RESULT_FIELDS = (
    "pk",
    "status",
    "attempts",
    "created_at",
    "started_at",
    "finished_at",
    "last_attempted_at",
    "worker_ids",
    "task_call",
    "return_value",
    "exception_class_path",
    "error_type",
    "error_message",
    "error_traceback",
)


def report_id_from_result_id(result_id: Any) -> int:
    """The report's pk that a result id names, or TaskResultDoesNotExist."""
    try:
        return int(result_id)
    except (TypeError, ValueError):
        raise TaskResultDoesNotExist(
            f"{result_id!r} is not a result id of this backend (they are report ids)."
        ) from None


def result_queryset(result_id: Any) -> Any:
    return AsyncActionReport.objects.filter(pk=report_id_from_result_id(result_id)).only(
        *RESULT_FIELDS
    )


def task_result_from_report(
    report: AsyncActionReport | None, result_id: Any, *, backend_alias: str
) -> TaskResult[Any, Any]:
    if report is None or not report.task_call:
        raise TaskResultDoesNotExist(f"No django.tasks result with id {result_id!r}.")
    call = report.task_call
    if call.get("backend") != backend_alias:
        raise TaskResultDoesNotExist(
            f"Result {result_id!r} belongs to task backend {call.get('backend')!r}, "
            f"not {backend_alias!r}."
        )
    result: TaskResult[Any, Any] = TaskResult(
        task=enqueued_task(call),
        id=str(report.pk),
        status=_status(report),
        enqueued_at=report.created_at,
        started_at=report.started_at,
        finished_at=report.finished_at,
        last_attempted_at=report.last_attempted_at or report.started_at,
        args=call["args"],
        kwargs=call["kwargs"],
        backend=call["backend"],
        errors=_errors(report),
        worker_ids=list(report.worker_ids or []),
    )
    object.__setattr__(result, "_return_value", report.return_value)  # DEP 14's own way
    return result


def running(result: TaskResult[Any, Any]) -> TaskResult[Any, Any]:
    """`result` as the run that is now under way sees itself (for TaskContext)."""
    return dataclasses.replace(result, status=TaskResultStatus.RUNNING)


def enqueued_task(call: dict[str, Any]) -> Task[Any, Any]:
    """The Task as it was enqueued: its function, with the options `.using()` gave it."""
    task = import_string(call["task"])
    run_after = call.get("run_after")
    return dataclasses.replace(
        task,
        priority=call["priority"],
        queue_name=call["queue_name"],
        backend=call["backend"],
        run_after=parse_datetime(run_after) if run_after else None,
    )


def _status(report: AsyncActionReport) -> Any:
    # The worker records an attempt as its first act, the tracker may write its start a
    # moment later: an attempt beyond the counted ones is already running.
    if report.status in (Status.PENDING, Status.RETRYING) and len(report.worker_ids or []) > (
        report.attempts
    ):
        return TaskResultStatus.RUNNING
    return STATUS_MAP[report.status]


def _errors(report: AsyncActionReport) -> list[TaskError]:
    if report.status in _STATUS_ERRORS:
        return [
            TaskError(
                exception_class_path=class_path(_STATUS_ERRORS[report.status]),
                traceback=report.error_message,
            )
        ]
    if report.status != Status.FAILED:
        return []
    return [
        TaskError(
            exception_class_path=report.exception_class_path or _guess_class(report.error_type),
            traceback=report.error_traceback or report.error_message,
        )
    ]


def _guess_class(error_type: str) -> str:
    """A failure the task never saw (a killed worker, a broker down at publish time)."""
    found = getattr(builtins, error_type, None)
    if isinstance(found, type) and issubclass(found, BaseException):
        return f"builtins.{error_type}"
    return class_path(ActionFailed)
