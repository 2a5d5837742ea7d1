"""Reads: what the worker, the admin and the dashboard ask of reports."""

from __future__ import annotations

from django.db.models import QuerySet

from async_actions.models import AsyncActionReport


def report_id_for_task(task_id: str) -> int | None:
    return AsyncActionReport.objects.filter(task_id=task_id).values_list("pk", flat=True).first()


def report_list(
    *, status: str | None = None, action: str | None = None
) -> QuerySet[AsyncActionReport]:
    """Latest first, optionally filtered; served by the (status|action, -created_at) indexes."""
    reports = AsyncActionReport.objects.select_related("triggered_by")
    if status:
        reports = reports.filter(status=status)
    if action:
        reports = reports.filter(action=action)
    return reports.order_by("-created_at", "-id")
