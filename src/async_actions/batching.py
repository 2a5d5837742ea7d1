"""Write-behind for the worker's hot path: starts and successes, a few per statement.

Two UPDATEs per task (running, then ok) cost more than a no-op task itself; see
benchmarks/. Each worker process therefore collects its starts and successes and a
background thread writes them every `TRACKING_FLUSH_INTERVAL` seconds, many reports per
statement. Failures, retries and cancellations are written at once (after a flush, so
order is kept) because they carry the error a person needs.

The buffer is a write coalescer, not state: every move is still the same conditional
UPDATE as `transitions`, so a batch arriving late can never move a report backwards. If a
worker process dies inside the window, its last reports stay running until
`async_actions_reap` marks them lost.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db import DatabaseError, close_old_connections, connections

from async_actions.bulk import sql_list, update_from_values
from async_actions.models import ACTIVE_STATUSES, AsyncActionReport
from async_actions.steps import steps_mark_ok, steps_mark_running
from async_actions.transitions import report_mark_ok, report_mark_running

logger = logging.getLogger(__name__)

# Keeps one statement's CASE lists short; a busy process flushes more often instead.
MAX_ROWS_PER_STATEMENT = 200

K = TypeVar("K", int, str)


@dataclass
class _Pending:
    attempt: int
    started_at: datetime | None = None
    finished_at: datetime | None = None
    report_id: int = 0  # for a workflow step, keyed by its task id


def write_steps(batch: dict[str, _Pending]) -> None:
    started = {t: (p.attempt, p.started_at) for t, p in batch.items() if p.started_at}
    finished = {t: (p.attempt, p.finished_at) for t, p in batch.items() if p.finished_at}
    steps_mark_running(
        report_ids={batch[t].report_id for t in started},
        started=started,  # type: ignore[arg-type]
    )
    steps_mark_ok(
        report_ids={batch[t].report_id for t in finished},
        finished=finished,  # type: ignore[arg-type]
    )


def write_started(batch: dict[int, _Pending]) -> None:
    rows = [(pk, p.attempt, p.started_at) for pk, p in batch.items()]
    updated = update_from_values(
        AsyncActionReport,
        key="id",
        columns=("id", "attempt", "at"),
        rows=rows,
        assignments="status = 'running', attempts = v.attempt, "
        "started_at = COALESCE({t}.started_at, v.at)",
        condition=f"{{t}}.status IN {sql_list(ACTIVE_STATUSES)} AND {{t}}.attempts < v.attempt",
    )
    if updated is None:
        for pk, attempt, _ in rows:
            report_mark_running(report_id=pk, attempt=attempt)


def write_finished(batch: dict[int, _Pending]) -> None:
    rows = [
        (pk, p.attempt, p.started_at or p.finished_at, p.finished_at) for pk, p in batch.items()
    ]
    updated = update_from_values(
        AsyncActionReport,
        key="id",
        columns=("id", "attempt", "started", "finished"),
        rows=rows,
        assignments="status = 'ok', finished_at = v.finished, "
        "started_at = COALESCE({t}.started_at, v.started), "
        "attempts = CASE WHEN {t}.attempts > v.attempt THEN {t}.attempts ELSE v.attempt END",
        condition=f"{{t}}.status IN {sql_list(ACTIVE_STATUSES)}",
    )
    if updated is None:
        for pk, *_ in rows:
            report_mark_ok(report_id=pk)


def _chunks(batch: dict[K, _Pending]) -> list[dict[K, _Pending]]:
    items = list(batch.items())
    return [
        dict(items[start : start + MAX_ROWS_PER_STATEMENT])
        for start in range(0, len(items), MAX_ROWS_PER_STATEMENT)
    ]


def _forget(batch: dict[K, _Pending], written: dict[K, _Pending]) -> None:
    for key in written:
        del batch[key]


class StatusBuffer:
    """One per worker process: collects moves, a daemon thread writes them in batches."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._pending: dict[int, _Pending] = {}
        self._steps: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        # One flush at a time: a failure written at once must wait for a flush in flight,
        # or its step's start could land after it and be dropped as late.
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def started(self, report_id: int, attempt: int, at: datetime) -> None:
        with self._lock:
            current = self._pending.get(report_id)
            if current is None or current.attempt < attempt:
                self._pending[report_id] = _Pending(attempt=attempt, started_at=at)
        self._ensure_thread()

    def finished(self, report_id: int, attempt: int, at: datetime) -> None:
        with self._lock:
            current = self._pending.setdefault(report_id, _Pending(attempt=attempt))
            current.attempt = max(current.attempt, attempt)
            current.finished_at = at
        self._ensure_thread()

    def step_started(self, report_id: int, task_id: str, attempt: int, at: datetime) -> None:
        with self._lock:
            current = self._steps.get(task_id)
            if current is None or current.attempt < attempt:
                self._steps[task_id] = _Pending(attempt=attempt, started_at=at, report_id=report_id)
        self._ensure_thread()

    def step_finished(self, report_id: int, task_id: str, attempt: int, at: datetime) -> None:
        with self._lock:
            current = self._steps.setdefault(
                task_id, _Pending(attempt=attempt, report_id=report_id)
            )
            current.attempt = max(current.attempt, attempt)
            current.finished_at = at
        self._ensure_thread()

    def flush(self) -> None:
        """Write everything collected so far, in the calling thread."""
        with self._flush_lock:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            reports, self._pending = self._pending, {}
            steps, self._steps = self._steps, {}
        try:
            for chunk in _chunks(steps):
                write_steps(chunk)
                _forget(steps, chunk)
            for chunk in _chunks(reports):
                write_started({pk: p for pk, p in chunk.items() if p.finished_at is None})
                write_finished({pk: p for pk, p in chunk.items() if p.finished_at is not None})
                _forget(reports, chunk)
        except DatabaseError:
            self._put_back(reports, steps)
            raise

    def _put_back(self, reports: dict[int, _Pending], steps: dict[str, _Pending]) -> None:
        # Newer moves collected meanwhile win; the rest waits for the next flush.
        with self._lock:
            for pk, pending in reports.items():
                self._pending.setdefault(pk, pending)
            for task_id, pending in steps.items():
                self._steps.setdefault(task_id, pending)

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.flush()

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="async-actions-status-writer", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.interval)
            try:
                close_old_connections()  # this thread's own connection, by Django's rules
                self.flush()
            except DatabaseError:
                logger.exception("Could not write async action statuses; will retry")
        connections.close_all()
