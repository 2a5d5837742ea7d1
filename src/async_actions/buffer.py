"""Write-behind for the worker's hot path: starts and successes, many per statement.

Two UPDATEs per task (running, then ok) cost more than a no-op task itself; see
benchmarks/. A worker's tracker therefore collects its starts and successes and a
background thread writes them every `TRACKING_FLUSH_INTERVAL` seconds with the tracker's
batched form. Failures, retries and cancellations are written at once (after a flush, so
order is kept) because they carry the error a person needs.

The buffer is a write coalescer, not state: every move is still the same conditional
UPDATE, so a batch arriving late can never move a report backwards. If a worker process
dies inside the window, its last reports stay running until `async_actions_reap` marks
them lost - unless its tasks are acknowledged late, whose successes are flushed before the
task returns (see `Tracker.task_succeeded`). A flush the database does not take keeps its
rows here for the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, close_old_connections, connections

if TYPE_CHECKING:
    from async_actions.tracker import Tracker

logger = logging.getLogger(__name__)

# Seconds between the writer thread's checks of its connection by Django's rules.
CONNECTION_CHECK_INTERVAL = 1.0


@dataclass
class _Pending:
    report_id: int
    attempt: int
    started_at: datetime | None = None
    finished_at: datetime | None = None


class WriteBehind:
    """One per worker process: collects moves, a daemon thread writes them in batches."""

    def __init__(self, tracker: Tracker, interval: float) -> None:
        self.tracker = tracker
        self.interval = interval
        # Keyed by report id (a single task) or task id (a workflow's step).
        self._reports: dict[int, _Pending] = {}
        self._steps: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        # One flush at a time: a failure written at once must wait for a flush in flight,
        # or its step's start could land after it and be dropped as late.
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    @property
    def _started_by(self) -> dict[str, Any]:
        return {"worker": self.tracker.worker, "redelivered": False}

    def _table(self, task_id: str | None) -> tuple[dict[Any, _Pending], Any]:
        return (self._steps, task_id) if task_id is not None else (self._reports, None)

    def started(self, report_id: int, task_id: str | None, attempt: int, at: datetime) -> None:
        with self._lock:
            pending, key = self._table(task_id)
            key = report_id if key is None else key
            current = pending.get(key)
            if current is None or current.attempt < attempt:
                pending[key] = _Pending(report_id, attempt, started_at=at)
        self._ensure_thread()

    def finished(self, report_id: int, task_id: str | None, attempt: int, at: datetime) -> None:
        with self._lock:
            pending, key = self._table(task_id)
            key = report_id if key is None else key
            current = pending.setdefault(key, _Pending(report_id, attempt))
            current.attempt = max(current.attempt, attempt)
            current.finished_at = at
        self._ensure_thread()

    def flush(self) -> None:
        """Write everything collected so far, in the calling thread."""
        with self._flush_lock:
            self._flush()

    def _flush(self) -> None:
        from async_actions.moves import REPORT_MOVES

        with self._lock:
            reports, self._reports = self._reports, {}
            steps, self._steps = self._steps, {}
        try:
            if steps:
                # A step that also finished in this window is started by its success (which
                # carries its start, as for a report); its workflow starts either way.
                self.tracker.steps_start(
                    [
                        _row(t, p, p.started_at)
                        for t, p in steps.items()
                        if p.started_at and not p.finished_at
                    ],
                    finishing=[
                        _row(t, p, p.started_at)
                        for t, p in steps.items()
                        if p.started_at and p.finished_at
                    ],
                )
                self.tracker.steps_succeed(
                    [_row(t, p, p.finished_at) for t, p in steps.items() if p.finished_at]
                )
                steps = {}
            if reports:
                self.tracker.apply_many(
                    REPORT_MOVES["start"],
                    [
                        {**_row(pk, p, p.started_at), **self._started_by}
                        for pk, p in reports.items()
                        if not p.finished_at
                    ],
                )
                self.tracker.apply_many(
                    REPORT_MOVES["succeed"],
                    [
                        {**_row(pk, p, p.finished_at), "worker": self.tracker.worker}
                        for pk, p in reports.items()
                        if p.finished_at
                    ],
                )
        except DatabaseError:
            self._put_back(reports, steps)
            raise

    def _put_back(self, reports: dict[int, _Pending], steps: dict[str, _Pending]) -> None:
        # Newer moves collected meanwhile win; the rest waits for the next flush.
        with self._lock:
            for pk, pending in reports.items():
                self._reports.setdefault(pk, pending)
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
        failing = False
        checked = 0.0
        while not self._stopped:
            self._wake.wait(self.interval)
            try:
                # This thread's own connection, by Django's rules (CONN_MAX_AGE, health
                # checks), once a second rather than before every flush: a health check is
                # one more round trip per flush, and CONN_MAX_AGE=0 would reconnect for each.
                if time.monotonic() - checked >= CONNECTION_CHECK_INTERVAL:
                    close_old_connections()
                    checked = time.monotonic()
                self._flush_reconnecting()
            except DatabaseError as exc:
                connections.close_all()  # reconnect at the next try
                if not failing:  # loudly once per outage, not every interval
                    logger.error("Could not write buffered statuses; kept, retrying: %s", exc)
                failing = True
            else:
                if failing:
                    logger.warning("Buffered statuses written again")
                failing = False
        connections.close_all()

    def _flush_reconnecting(self) -> None:
        """Flush; if that fails, once more on a new connection (the last one may have died)."""
        try:
            self.flush()
        except DatabaseError:
            connections.close_all()
            self.flush()


def _row(key: Any, pending: _Pending, at: datetime | None) -> dict[str, Any]:
    # A start and a success of one attempt both in the buffer: the success carries its start.
    return {
        "key": key,
        "report_id": pending.report_id,
        "attempt": pending.attempt,
        "at": at,
        "started": pending.started_at or at,
    }
