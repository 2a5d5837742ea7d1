"""Status moves of workflow steps, and of the report they roll up into.

A workflow's report is `running` from its first step's start, `failed` as soon as any
step fails (naming the step), and `ok` only once every step is done: no middle step can
finish the action. Each step row is written only by its own task, so a 500-member chord
does not queue 500 writers on the report's row; the report is touched on its first
start, on a failure, and once at the end. Like `transitions`, every move is a
conditional UPDATE, so late or duplicated events change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Case, DateTimeField, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from async_actions.bulk import sql_list, update_from_values
from async_actions.cleansing import cleanse_text
from async_actions.conf import aa_settings
from async_actions.models import (
    ACTIVE_STATUSES,
    STEP_ACTIVE_STATUSES,
    STEP_DONE_STATUSES,
    AsyncActionReport,
    AsyncActionStep,
    Status,
    StepStatus,
)
from async_actions.transitions import cleansed_error, clip, write_failure


def _by_task(values: dict[str, object], output_field: object) -> Case:
    return Case(
        *(When(task_id=task_id, then=Value(value)) for task_id, value in values.items()),
        output_field=output_field,
    )


def steps_mark_running(
    *, report_ids: Iterable[int], started: dict[str, tuple[int, datetime]]
) -> None:
    """`started` maps task id -> (attempt, start time)."""
    if not started:
        return
    updated = update_from_values(
        AsyncActionStep,
        key="task_id",
        columns=("task_id", "attempt", "at"),
        rows=[(task_id, attempt, at) for task_id, (attempt, at) in started.items()],
        assignments="status = 'running', attempts = v.attempt, "
        "started_at = COALESCE({t}.started_at, v.at)",
        condition=f"{{t}}.status IN {sql_list(STEP_ACTIVE_STATUSES)} "
        "AND {t}.attempts < v.attempt",
    )
    if updated is None:
        _steps_mark_running_orm(started)
    earliest = min(at for _, at in started.values())
    AsyncActionReport.objects.filter(
        pk__in=set(report_ids), status__in=(Status.PENDING, Status.RETRYING)
    ).update(status=Status.RUNNING, started_at=Coalesce(F("started_at"), Value(earliest)))


def _steps_mark_running_orm(started: dict[str, tuple[int, datetime]]) -> None:
    attempts = {task_id: attempt for task_id, (attempt, _) in started.items()}
    AsyncActionStep.objects.filter(
        task_id__in=started,
        status__in=STEP_ACTIVE_STATUSES,
        attempts__lt=_by_task(attempts, IntegerField()),
    ).update(
        status=StepStatus.RUNNING,
        attempts=_by_task(attempts, IntegerField()),
        started_at=Coalesce(
            F("started_at"),
            _by_task({t: at for t, (_, at) in started.items()}, DateTimeField()),
        ),
    )


def steps_mark_ok(*, report_ids: Iterable[int], finished: dict[str, tuple[int, datetime]]) -> None:
    """`finished` maps task id -> (attempt, finish time); completes reports left with no work."""
    if not finished:
        return
    updated = update_from_values(
        AsyncActionStep,
        key="task_id",
        columns=("task_id", "attempt", "at"),
        rows=[(task_id, attempt, at) for task_id, (attempt, at) in finished.items()],
        assignments="status = 'ok', finished_at = v.at, "
        "attempts = CASE WHEN {t}.attempts > v.attempt THEN {t}.attempts ELSE v.attempt END",
        condition=f"{{t}}.status IN {sql_list(STEP_ACTIVE_STATUSES)}",
    )
    if updated is None:
        _steps_mark_ok_orm(finished)
    reports_complete(report_ids=report_ids)


def _steps_mark_ok_orm(finished: dict[str, tuple[int, datetime]]) -> None:
    AsyncActionStep.objects.filter(task_id__in=finished, status__in=STEP_ACTIVE_STATUSES).update(
        status=StepStatus.OK,
        finished_at=_by_task({t: at for t, (_, at) in finished.items()}, DateTimeField()),
        attempts=Greatest(
            F("attempts"), _by_task({t: n for t, (n, _) in finished.items()}, IntegerField())
        ),
    )


def reports_complete(*, report_ids: Iterable[int]) -> int:
    """Mark ok the reports among `report_ids` whose every step is done.

    Runs after the step updates committed, so of two last steps finishing at once at least
    the later one sees the other's row done: a report cannot be left running.
    """
    report_ids = set(report_ids)
    unfinished = set(
        AsyncActionStep.objects.filter(report_id__in=report_ids)
        .exclude(status__in=STEP_DONE_STATUSES)
        .values_list("report_id", flat=True)
        .distinct()
    )
    done = report_ids - unfinished
    if not done:
        return 0
    return AsyncActionReport.objects.filter(pk__in=done, status__in=ACTIVE_STATUSES).update(
        status=Status.OK, finished_at=timezone.now()
    )


def step_mark_retrying(*, report_id: int, task_id: str, attempt: int, error: str) -> None:
    error = clip(cleanse_text(error), aa_settings.ERROR_MESSAGE_MAX_CHARS)
    step_name = (
        AsyncActionStep.objects.filter(task_id=task_id).values_list("task_name", flat=True).first()
    )
    AsyncActionStep.objects.filter(task_id=task_id, last_retry_attempt__lt=attempt).filter(
        Q(status__in=STEP_ACTIVE_STATUSES) | Q(attempts__gt=attempt)
    ).update(
        status=Case(
            When(
                attempts=attempt, status__in=STEP_ACTIVE_STATUSES, then=Value(StepStatus.RETRYING)
            ),
            default=F("status"),
        ),
        error_message=error,
        last_retry_attempt=attempt,
    )
    AsyncActionReport.objects.filter(pk=report_id, status__in=ACTIVE_STATUSES).update(
        status=Case(When(status=Status.RUNNING, then=Value(Status.RETRYING)), default=F("status")),
        last_retry_error=f"{step_name}: {error}",
    )


def step_mark_failed(
    *, report_id: int, task_id: str, error_type: str, error_message: str, error_traceback: str
) -> None:
    """The step failed, so the whole action has: the report names the step."""
    message, traceback = cleansed_error(error_message, error_traceback)
    AsyncActionStep.objects.filter(task_id=task_id, status__in=STEP_ACTIVE_STATUSES).update(
        status=StepStatus.FAILED,
        finished_at=timezone.now(),
        error_type=error_type[:255],
        error_message=message,
        error_traceback=traceback,
    )
    step = AsyncActionStep.objects.filter(task_id=task_id).values("position", "task_name").first()
    where = f"step {step['position'] + 1} ({step['task_name']})" if step else f"task {task_id}"
    write_failure(
        report_id=report_id,
        error_type=error_type,
        message=clip(f"Failed at {where}: {message}", aa_settings.ERROR_MESSAGE_MAX_CHARS),
        traceback=traceback,
    )


def step_mark_cancelled(*, task_id: str, reason: str) -> None:
    AsyncActionStep.objects.filter(task_id=task_id, status__in=STEP_ACTIVE_STATUSES).update(
        status=StepStatus.CANCELLED, finished_at=timezone.now(), error_message=cleanse_text(reason)
    )
