"""Reads for the dashboard and the status API: filters, keyset pages, progress, timelines.

Pages are keyset-paginated ("older" links carry the last row's public id), so no query ever
counts or offsets through the table: every filter is served by an index ending in
`created_at`, and a page reads at most one more row than it shows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, FloatField, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from async_actions.errors import InvalidActionError
from async_actions.models import (
    AsyncActionReport,
    AsyncActionStep,
    Origin,
    Status,
    StepStatus,
)
from async_actions.parking import having_status

RUNNING_STEP_STATUSES = (StepStatus.RUNNING, StepStatus.RETRYING)


class InvalidFilterError(InvalidActionError):
    """A dashboard or API filter that names no status, origin, day or report."""


@dataclass(frozen=True)
class Filters:
    status: str = ""
    action: str = ""
    origin: str = ""
    day: date | None = None
    search: str = ""
    before: str = ""  # the public id of the last row of the previous page

    @classmethod
    def from_query(cls, query: Any) -> Filters:
        def value(name: str) -> str:
            return str(query.get(name, "") or "").strip()

        status, origin, day, before = (
            value("status"),
            value("origin"),
            value("date"),
            value("before"),
        )
        if status and status not in Status.values:
            raise InvalidFilterError(f"status must be one of {Status.values}, got {status!r}.")
        if origin and origin not in Origin.values:
            raise InvalidFilterError(f"origin must be one of {Origin.values}, got {origin!r}.")
        try:
            parsed_day = date.fromisoformat(day) if day else None
        except ValueError:
            raise InvalidFilterError(f"date must look like 2026-01-31, got {day!r}.") from None
        if before and _uuid(before) is None:
            raise InvalidFilterError(f"before must be a report id, got {before!r}.")
        return cls(status, value("action"), origin, parsed_day, value("q"), before)

    def as_query(self) -> dict[str, str]:
        """The filters as query parameters (without the page cursor)."""
        pairs = {
            "status": self.status,
            "action": self.action,
            "origin": self.origin,
            "date": self.day.isoformat() if self.day else "",
            "q": self.search,
        }
        return {name: value for name, value in pairs.items() if value}


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def filtered(reports: QuerySet[AsyncActionReport], filters: Filters) -> QuerySet[AsyncActionReport]:
    if filters.status:
        reports = reports.filter(having_status(filters.status))
    if filters.action:
        reports = reports.filter(action=filters.action)
    if filters.origin:
        reports = reports.filter(origin=filters.origin)
    if filters.day:
        start = timezone.make_aware(datetime.combine(filters.day, time.min))
        reports = reports.filter(created_at__gte=start, created_at__lt=start + timedelta(days=1))
    if filters.search:
        public_id = _uuid(filters.search)
        if public_id is not None:
            reports = reports.filter(public_id=public_id)
        else:
            reports = reports.filter(action__icontains=filters.search)
    return reports


@dataclass
class Progress:
    current: int
    total: int
    percent: int
    message: str = ""


@dataclass
class Row:
    report: AsyncActionReport
    progress: Progress
    failing_step: str = ""

    @property
    def duration(self) -> timedelta | None:
        return duration(self.report.started_at, self.report.finished_at)


@dataclass
class Page:
    rows: list[Row]
    next_cursor: str | None = None
    filters: Filters = field(default_factory=Filters)


def report_page(reports: QuerySet[AsyncActionReport], filters: Filters, *, size: int) -> Page:
    """The newest `size` reports matching `filters` before the cursor, with their progress."""
    reports = filtered(reports, filters).select_related("triggered_by", "retry_of")
    if filters.before:
        anchor = (
            AsyncActionReport.objects.filter(public_id=filters.before)
            .values("created_at", "id")
            .first()
        )
        if anchor is None:
            raise InvalidFilterError(f"before names no report: {filters.before!r}.")
        # The redundant `created_at <=` lets the index scan start at the cursor instead of
        # walking down from the newest row.
        reports = reports.filter(created_at__lte=anchor["created_at"]).filter(
            Q(created_at__lt=anchor["created_at"])
            | Q(created_at=anchor["created_at"], id__lt=anchor["id"])
        )
    found = list(reports.order_by("-created_at", "-id")[: size + 1])
    shown = found[:size]
    rows = with_progress(shown)
    next_cursor = str(shown[-1].public_id) if len(found) > size else None
    return Page(rows=rows, next_cursor=next_cursor, filters=filters)


def with_progress(reports: list[AsyncActionReport]) -> list[Row]:
    """Rows with progress and failing step: at most two step queries for the whole page."""
    workflows = [r.pk for r in reports if r.total_steps > 1 and r.status != Status.OK]
    counts = _step_counts(workflows)
    failed = [r.pk for r in reports if r.status == Status.FAILED and r.total_steps > 1]
    failing = (
        dict(
            AsyncActionStep.objects.filter(report_id__in=failed, status=StepStatus.FAILED)
            .order_by("finished_at")
            .values_list("report_id", "task_name")
        )
        if failed
        else {}
    )
    return [
        Row(
            report=r,
            progress=progress_of(r, counts.get(r.pk)),
            failing_step=short_name(failing.get(r.pk, "")),
        )
        for r in reports
    ]


def _step_counts(report_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not report_ids:
        return {}
    fraction = Cast("progress_current", FloatField()) / Cast("progress_total", FloatField())
    rows = (
        AsyncActionStep.objects.filter(report_id__in=report_ids)
        .values("report_id")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=StepStatus.OK)),
            partial=Sum(
                fraction,
                filter=Q(status__in=RUNNING_STEP_STATUSES, progress_total__gt=0),
            ),
        )
        .order_by()
    )
    return {row["report_id"]: dict(row) for row in rows}


def progress_of(report: AsyncActionReport, counts: dict[str, Any] | None = None) -> Progress:
    """Steps done / all steps for a workflow (running steps' own progress counted in);
    for a single task, what it reported with set_progress()."""
    message = report.progress_message
    if report.total_steps > 1 or counts:
        total = (counts or {}).get("total") or report.total_steps
        if report.status == Status.OK:
            return Progress(total, total, 100, message)
        done = (counts or {}).get("done") or 0
        partial = (counts or {}).get("partial") or 0.0
        percent = int(100 * min(1.0, (done + partial) / total)) if total else 0
        return Progress(done, total, percent, message)
    if report.progress_total:
        current, total = report.progress_current or 0, report.progress_total
        if report.status == Status.OK:
            current = total
        return Progress(current, total, int(100 * current / total), message)
    if report.status == Status.OK:
        return Progress(1, 1, 100, message)
    return Progress(0, 1, 0, message)


def report_progress_now(report: AsyncActionReport) -> Progress:
    """One report's progress (its own step query)."""
    workflow = report.total_steps > 1 and report.status != Status.OK
    return progress_of(report, _step_counts([report.pk]).get(report.pk) if workflow else None)


def duration(start: datetime | None, end: datetime | None) -> timedelta | None:
    if start is None:
        return None
    return (end or timezone.now()) - start


def short_name(task_name: str) -> str:
    return task_name.rsplit(".", 1)[-1]


# -- one report's steps, as a timeline ------------------------------------------------------


@dataclass
class TimelineStep:
    step: AsyncActionStep
    number: int
    left: float  # percent of the timeline's span
    width: float

    @property
    def label(self) -> str:
        """"2" for a step of its own; "2.1", "2.2" for parallel branches, counted from 1."""
        branch = self.step.branch
        if not branch:
            return str(self.number)
        parts = [str(int(p) + 1) if p.isdigit() else p for p in branch.split(".")]
        return ".".join([str(self.number), *parts])


def numbered_steps(report: AsyncActionReport) -> list[tuple[int, AsyncActionStep]]:
    """(number, step) in workflow order: from 1, no gaps, parallel branches sharing one."""
    steps = list(report.steps.all().order_by("position", "branch", "id"))
    numbers = {p: n for n, p in enumerate(sorted({s.position for s in steps}), start=1)}
    return [(numbers[s.position], s) for s in steps]


def timeline(report: AsyncActionReport) -> list[TimelineStep]:
    """Each step's bar: when it started and ended, relative to the whole action."""
    numbered = numbered_steps(report)
    now = timezone.now()
    starts = [s.started_at for _, s in numbered if s.started_at]
    begin = min([report.started_at or report.created_at, *starts])
    ends = [s.finished_at or now for _, s in numbered if s.started_at]
    end = max([report.finished_at or now, *ends])
    span = max((end - begin).total_seconds(), 0.001)
    bars = []
    for number, step in numbered:
        if step.started_at is None:
            bars.append(TimelineStep(step, number, 0.0, 0.0))
            continue
        left = (step.started_at - begin).total_seconds() / span * 100
        width = ((step.finished_at or now) - step.started_at).total_seconds() / span * 100
        bars.append(TimelineStep(step, number, round(left, 2), round(max(width, 0.8), 2)))
    return bars


def action_names(reports: QuerySet[AsyncActionReport], *, recent: int = 1000) -> list[str]:
    """Action names among the latest `recent` reports, for the filter's suggestions."""
    latest = reports.order_by("-created_at").values_list("action", flat=True)[:recent]
    return sorted(set(latest))
