"""Reads: what the worker, the admin and the dashboard ask of reports."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from async_actions.models import (
    FINAL_STATUSES,
    STEP_DONE_STATUSES,
    AsyncActionReport,
    AsyncActionStep,
)
from async_actions.parking import having_status


def tracking_for_task(task_id: str) -> tuple[int | None, bool]:
    """(report id, is a workflow step) of a task known only by its id; (None, False) if not."""
    step_report = (
        AsyncActionStep.objects.filter(task_id=task_id).values_list("report_id", flat=True).first()
    )
    if step_report is not None:
        return step_report, True
    report_id = (
        AsyncActionReport.objects.filter(task_id=task_id, total_steps=1)
        .values_list("pk", flat=True)
        .first()
    )
    return report_id, False


def report_progress(report: AsyncActionReport) -> float:
    """Finished steps / all steps, from 0.0 to 1.0."""
    counts = report.steps.aggregate(
        total=Count("id"), done=Count("id", filter=Q(status__in=STEP_DONE_STATUSES))
    )
    if not counts["total"]:
        return 1.0 if report.status in FINAL_STATUSES else 0.0
    return float(counts["done"]) / float(counts["total"])


def report_list(
    *, status: str | None = None, action: str | None = None
) -> QuerySet[AsyncActionReport]:
    """Latest first, optionally filtered; served by aa_report_latest and aa_report_action_latest.

    Unfinished and lost reports come from async_actions.parking's two places.
    """
    reports = AsyncActionReport.objects.select_related("triggered_by")
    if status:
        reports = reports.filter(having_status(status))
    if action:
        reports = reports.filter(action=action)
    return reports.order_by("-created_at", "-id")


# -- the dashboard and the API ------------------------------------------------------------


def step_number(*, report_id: int, position: int) -> int:
    """The number people see for a step: 1-based, no gaps, parallel branches share it."""
    return (
        AsyncActionStep.objects.filter(report_id=report_id, position__lt=position)
        .values("position")
        .distinct()
        .count()
        + 1
    )
