"""The JSON the status API answers, the way celery-progress is used by a front-end.

    {"id": "<public id>", "action": "...", "status": "running",
     "progress": {"current": 2, "total": 5, "percent": 40, "message": "..."},
     "steps": [{"name", "status", "position", "branch", "started_at", "finished_at",
                "attempts"}],
     "error": {"type": "...", "message": "..."} or null,
     "created_at": ..., "started_at": ..., "finished_at": ..., "retry_of": "<public id>"}

A list item has the same keys but `steps`. `position` is the step number people see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from async_actions.dashboard import Progress, Row, numbered_steps
from async_actions.models import AsyncActionReport, Status

# States whose report carries an error (a cancel or loss says why in error_message).
_ERROR_STATUSES = (Status.FAILED, Status.LOST, Status.CANCELLED)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _error(report: AsyncActionReport) -> dict[str, str] | None:
    if report.status not in _ERROR_STATUSES:
        return None
    return {
        "type": report.error_type or report.status.capitalize(),
        "message": report.error_message,
    }


def report_summary(report: AsyncActionReport, progress: Progress) -> dict[str, Any]:
    return {
        "id": str(report.public_id),
        "action": report.action,
        "status": report.status,
        "progress": {
            "current": progress.current,
            "total": progress.total,
            "percent": progress.percent,
            "message": progress.message,
        },
        "error": _error(report),
        "created_at": _time(report.created_at),
        "started_at": _time(report.started_at),
        "finished_at": _time(report.finished_at),
        "retry_of": str(report.retry_of.public_id) if report.retry_of_id else None,  # type: ignore[union-attr]
    }


def report_detail(report: AsyncActionReport, progress: Progress) -> dict[str, Any]:
    data = report_summary(report, progress)
    steps = [
        {
            "name": step.task_name,
            "status": step.status,
            "position": number,
            "branch": step.branch,
            "started_at": _time(step.started_at),
            "finished_at": _time(step.finished_at),
            "attempts": step.attempts,
        }
        for number, step in numbered_steps(report)
    ]
    # The documented key order: steps after progress.
    return {
        **{k: data[k] for k in ("id", "action", "status", "progress")},
        "steps": steps,
        **{k: data[k] for k in data if k not in ("id", "action", "status", "progress")},
    }


def rows_summary(rows: list[Row]) -> list[dict[str, Any]]:
    return [report_summary(row.report, row.progress) for row in rows]
