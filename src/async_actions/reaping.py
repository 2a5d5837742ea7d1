"""The reaper: which unfinished reports are lost, decided by heartbeats rather than the clock.

- A started report (running, retrying) is lost when the worker process that had it has been
  silent for WORKER_LOST_AFTER seconds (its AsyncActionWorker row is stale or was never
  written). A live worker's report is never lost, however long its task runs.
- A report never started is lost when LOST_AFTER seconds have passed since it could first
  run (its countdown/ETA, else its creation) and no worker took it.
- A report started by a worker that recorded no name (before heartbeats existed) falls back
  to the clock: started more than LOST_AFTER seconds ago.

`lost` is final for everything but the real outcome of the same task: if the task finishes
after all, its outcome replaces `lost`, and `lost_at` stays as a trace.

Status is not indexed (see async_actions.parking): each run first parks the unfinished
reports about to fall behind the mark, then reads only those above it and the parked ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from async_actions.conf import aa_settings
from async_actions.models import (
    AsyncActionReport,
    AsyncActionStep,
    AsyncActionWorker,
    Status,
    StepStatus,
)
from async_actions.moves import REPORT_MOVES
from async_actions.parking import park, unfinished_reports
from async_actions.tracker import get_tracker

STARTED = (Status.RUNNING, Status.RETRYING)
# The worker of a retrying report ran the attempt before; the next one is a message of its
# own (held by any worker, or lost by the broker): judged by its due time, not a heartbeat.
RUNNING = (Status.RUNNING,)


@dataclass(frozen=True)
class Reaped:
    silent_worker: int
    never_started: int
    unnamed_worker: int

    @property
    def total(self) -> int:
        return self.silent_worker + self.never_started + self.unnamed_worker


def live_workers(*, now: datetime) -> set[str]:
    cutoff = now - timedelta(seconds=aa_settings.WORKER_LOST_AFTER)
    return set(
        AsyncActionWorker.objects.filter(last_seen__gte=cutoff).values_list("name", flat=True)
    )


def _lose(reports: QuerySet[AsyncActionReport], *, message: str) -> int:
    """The tracker's `lose` move (from the move table) for each of `reports`."""
    return get_tracker().lose(report_ids=list(reports.values_list("pk", flat=True)), reason=message)


def _silent_message(worker: str, what: str) -> str:
    seen = AsyncActionWorker.objects.filter(name=worker).values_list("last_seen", flat=True)
    last_seen = next(iter(seen), None)
    since = f"since {last_seen:%Y-%m-%d %H:%M:%S %Z}" if last_seen else "and never beat"
    return (
        f"Lost: worker {worker} has been silent {since} (WORKER_LOST_AFTER="
        f"{aa_settings.WORKER_LOST_AFTER}s) while running {what}; it was probably killed "
        f"or frozen. If the task finishes after all, its outcome replaces this."
    )


def reports_reap(*, now: datetime | None = None, lost_after: float | None = None) -> Reaped:
    """Mark lost the reports no live worker has; returns how many, by reason.

    `lost_after` (seconds) overrides LOST_AFTER for reports never started.
    """
    now = now or timezone.now()
    lost_after_seconds = aa_settings.LOST_AFTER if lost_after is None else lost_after
    park(now=now)
    unfinished = AsyncActionReport.objects.filter(unfinished_reports())
    live = live_workers(now=now)
    # A worker that starts a task beats before it: one with no row after WORKER_LOST_AFTER
    # is as silent as a stale one.
    grace = now - timedelta(seconds=aa_settings.WORKER_LOST_AFTER)
    tracker = get_tracker()
    silent = 0
    # A single task's report names its worker; a workflow's running steps name theirs.
    reports = (
        unfinished.filter(status__in=RUNNING, started_at__lt=grace)
        .exclude(worker="")
        .exclude(worker__in=live)
        .values_list("pk", "worker", "task_name")
    )
    steps = (
        AsyncActionStep.objects.filter(
            report__status__in=STARTED,
            status=StepStatus.RUNNING,
            started_at__lt=grace,
        )
        .exclude(worker="")
        .exclude(worker__in=live)
        .values_list("report_id", "worker", "position", "task_name")
    )
    found: dict[int, str] = {}
    for pk, worker, position, task_name in steps:
        found.setdefault(pk, _silent_message(worker, f"step {position + 1} ({task_name!r})"))
    for pk, worker, task_name in reports:
        found.setdefault(pk, _silent_message(worker, f"task {task_name!r}"))
    for pk, message in found.items():
        silent += tracker.apply(REPORT_MOVES["lose"], pk, at=now, reason=message)

    cutoff = now - timedelta(seconds=lost_after_seconds)
    never_started = _lose(
        unfinished.filter(status=Status.PENDING, started_at__isnull=True).filter(
            Q(not_before__isnull=True, created_at__lt=cutoff) | Q(not_before__lt=cutoff)
        ),
        message=f"Lost: never started - no worker took it within LOST_AFTER="
        f"{lost_after_seconds:g}s of when it could first run; the broker may have dropped "
        f"the message.",
    ) + _lose(
        unfinished.filter(status=Status.RETRYING, not_before__lt=cutoff),
        message=f"Lost: no worker took its next attempt within LOST_AFTER="
        f"{lost_after_seconds:g}s of when it was due; the broker may have dropped the message.",
    )
    unnamed_worker = _lose(
        unfinished.filter(
            Q(status__in=STARTED) | Q(status=Status.PENDING, started_at__isnull=False),
            worker="",
            started_at__lt=cutoff,
        ).exclude(steps__worker__gt=""),
        message=f"Lost: started but not finished within LOST_AFTER={lost_after_seconds:g}s "
        f"by a worker that recorded no heartbeat.",
    )
    return Reaped(silent, never_started, unnamed_worker)


def workers_forget(*, older_than: timedelta) -> int:
    """Delete the heartbeat rows of workers silent for longer than `older_than`."""
    deleted, _ = AsyncActionWorker.objects.filter(
        last_seen__lt=timezone.now() - older_than
    ).delete()
    return deleted
