"""The tracker: one object per process that writes every status move.

It names the moves (start, retry, succeed, fail, cancel, lose, and a workflow's steps)
and writes them with the two forms of `writer.MoveWriter`, both built from the one
definition of each move in `moves`: at once (failures, retries, cancellations, callers,
eager tasks) or batched by the worker's write-behind `buffer` (starts and successes).
A worker installs its own tracker when it starts (see `tracking`); any other process
uses a tracker that writes at once.

Extension points (for the reliability work): a failed write surfaces from
`MoveWriter._execute`, the single place statements run (the buffer already keeps what it
could not write and tries again next flush); a per-task synchronous write before the
message is acknowledged is `flush()` called at the end of a task (or `task_succeeded`
with the buffer bypassed); a heartbeat is one more statement through `_execute` on the
buffer's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from async_actions.backlog import Backlog, close_connections
from async_actions.buffer import WriteBehind
from async_actions.cleansing import cleanse_text, cleanse_texts
from async_actions.conf import aa_settings
from async_actions.heartbeats import Heartbeat
from async_actions.models import AsyncActionStep
from async_actions.moves import REPORT_MOVES, STEP_MOVES, WORKFLOW_MOVES
from async_actions.selectors import step_number
from async_actions.writer import MAX_ROWS_PER_STATEMENT, MoveWriter, chunks

logger = logging.getLogger(__name__)


def clip(text: str, limit: int, *, keep_end: bool = False) -> str:
    if len(text) <= limit:
        return text
    return "..." + text[-limit:] if keep_end else text[:limit] + "..."


def cleansed_error(message: str, traceback: str) -> tuple[str, str]:
    """(message, traceback) scrubbed of secrets and clipped to the stored sizes."""
    message, traceback = cleanse_texts(message, traceback)
    return (
        clip(message, aa_settings.ERROR_MESSAGE_MAX_CHARS),
        clip(traceback, aa_settings.TRACEBACK_MAX_CHARS, keep_end=True),
    )


class Tracker(MoveWriter):
    """Writes status moves; a worker's own also holds a write-behind buffer."""

    def __init__(
        self,
        *,
        flush_interval: float = 0.0,
        manage_connections: bool = False,
        worker: str = "",
        keep_writes: bool = False,
        keeps_connections: bool = True,
    ) -> None:
        # Let Django's CONN_MAX_AGE rules, not Celery's close-every-task, decide (worker only).
        self.manage_connections = manage_connections
        self.buffer = WriteBehind(self, interval=flush_interval) if flush_interval else None
        # This worker process's name (heartbeats, and the `worker` column its starts set).
        self.worker = worker
        # A worker keeps the writes the database did not take and retries them (backlog).
        self.backlog = Backlog(window=aa_settings.WRITE_RETRY_WINDOW) if keep_writes else None
        self.heartbeat: Heartbeat | None = None
        # False in a prefork main process: it writes rarely (a killed child's failure), and a
        # connection it kept would go stale (a database restart kills it) and be inherited
        # by every child it forks, where Celery's fork handling fails on a dead one.
        self.keeps_connections = keeps_connections

    def write(self, call: Callable[[], object], *, what: str) -> None:
        """Run a worker-side write; if the database cannot take it, keep it for later."""
        try:
            if self.backlog is None:
                call()
            else:
                self.backlog.run(call, what=what)
        finally:
            if not self.keeps_connections:
                close_connections()

    def start_heartbeat(self, *, interval: float) -> None:
        self.heartbeat = Heartbeat(name=self.worker, interval=interval).start()

    # -- the moves of a report --------------------------------------------------------------

    def start(
        self,
        *,
        report_id: int,
        attempt: int,
        at: datetime | None = None,
        redelivered: bool = False,
    ) -> bool:
        """Attempt `attempt` (1-based) has started on this worker.

        The same start written twice is a no-op; a redelivered message that runs again on
        another worker process counts one more attempt.
        """
        return self.apply(
            REPORT_MOVES["start"],
            report_id,
            attempt=attempt,
            at=at or timezone.now(),
            worker=self.worker,
            redelivered=redelivered,
        )

    def succeed(
        self,
        *,
        report_id: int,
        attempt: int = 0,
        started: datetime | None = None,
        at: datetime | None = None,
        worker: str | None = None,
    ) -> bool:
        """Attempt `attempt` succeeded on `worker` (default: this process)."""
        at = at or timezone.now()
        return self.apply(
            REPORT_MOVES["succeed"],
            report_id,
            attempt=attempt,
            started=started or at,
            at=at,
            worker=self.worker if worker is None else worker,
        )

    def retry(
        self, *, report_id: int, attempt: int, error: str, not_before: datetime | None = None
    ) -> bool:
        """Attempt `attempt` failed and will be retried, not before `not_before` (default now)."""
        error = clip(cleanse_text(error), aa_settings.ERROR_MESSAGE_MAX_CHARS)
        return self.apply(
            REPORT_MOVES["retry"],
            report_id,
            attempt=attempt,
            error=error,
            not_before=not_before or timezone.now(),
        )

    def fail(
        self, *, report_id: int, error_type: str, error_message: str, error_traceback: str = ""
    ) -> bool:
        """Record a failure, with secrets scrubbed from the message and the traceback."""
        message, traceback = cleansed_error(error_message, error_traceback)
        return self.apply(
            REPORT_MOVES["fail"],
            report_id,
            at=timezone.now(),
            error_type=error_type[:255],
            error_message=message,
            error_traceback=traceback,
        )

    def cancel(self, *, report_id: int, reason: str) -> bool:
        return self.apply(
            REPORT_MOVES["cancel"], report_id, at=timezone.now(), reason=cleanse_text(reason)
        )

    def lose(self, *, report_ids: Iterable[int], reason: str) -> int:
        now = timezone.now()
        rows = [{"key": pk, "at": now, "reason": reason} for pk in report_ids]
        return sum(len(self.apply_many(REPORT_MOVES["lose"], chunk)) for chunk in chunks(rows))

    # -- the moves of a workflow's steps -------------------------------------------------------

    def steps_start(
        self, rows: Sequence[dict[str, Any]], *, finishing: Sequence[dict[str, Any]] = ()
    ) -> None:
        """Rows of key (task id), report_id, attempt, at: steps started, and their workflows.

        `finishing`: rows alike of steps whose success, written next, carries their start
        (the buffer merges them, as for a report): only their workflows start here.
        """
        rows = [{"redelivered": False, **row, "worker": self.worker} for row in rows]
        for chunk in chunks(rows):
            self.apply_many(STEP_MOVES["start"], chunk)
        earliest: dict[int, datetime] = {}
        for row in (*rows, *finishing):
            at = earliest.get(row["report_id"])
            earliest[row["report_id"]] = row["at"] if at is None else min(at, row["at"])
        for chunk in chunks([{"key": pk, "at": at} for pk, at in earliest.items()]):
            self.apply_many(WORKFLOW_MOVES["start"], chunk)

    def steps_succeed(self, rows: Sequence[dict[str, Any]]) -> None:
        """Rows of key (task id), report_id, attempt, started, at and optionally worker
        (default: this process); completes finished workflows."""
        rows = [{"worker": self.worker, **row} for row in rows]
        for chunk in chunks(rows):
            self.apply_many(STEP_MOVES["succeed"], chunk)
        self.complete_workflows(report_ids={row["report_id"] for row in rows})

    def complete_workflows(self, *, report_ids: Iterable[int]) -> int:
        """Mark ok the reports among `report_ids` whose every step is done.

        Runs after the step updates committed, so of two last steps finishing at once at
        least the later one sees the other's row done: a report cannot be left running.
        Two statements, the read of the steps and then the UPDATE of the reports: one that
        did both (a guard on the steps inside the UPDATE) held the reports' table while it
        waited for the steps' and deadlocked with anything that locks them the other way
        round (a TRUNCATE, a migration).
        """
        report_ids = set(report_ids)
        unfinished = self._unfinished_workflows(sorted(report_ids))
        now = timezone.now()
        rows = [{"key": pk, "at": now} for pk in sorted(report_ids - unfinished)]
        return sum(len(self.apply_many(WORKFLOW_MOVES["complete"], c)) for c in chunks(rows))

    def _unfinished_workflows(self, report_ids: Sequence[int]) -> set[int]:
        """Which of `report_ids` have a step not done yet.

        Plain SQL, as the buffer runs it at every flush of a workflow's steps: building the
        ORM query cost more than the indexed read (and the model's ordering, through the
        report, made DISTINCT return every unfinished step).
        """
        from async_actions.models import STEP_DONE_STATUSES

        meta = AsyncActionStep._meta
        table = self._quote(meta.db_table)
        report = self._quote(str(meta.get_field("report").column))
        status = self._quote(str(meta.get_field("status").column))
        done = ", ".join(["%s"] * len(STEP_DONE_STATUSES))
        unfinished: set[int] = set()
        with self._connection.cursor() as cursor:
            for start in range(0, len(report_ids), MAX_ROWS_PER_STATEMENT):
                ids = report_ids[start : start + MAX_ROWS_PER_STATEMENT]
                cursor.execute(
                    f"SELECT DISTINCT {report} FROM {table} "  # noqa: S608 - our own names only
                    f"WHERE {report} IN ({', '.join(['%s'] * len(ids))}) "
                    f"AND {status} NOT IN ({done})",
                    [*ids, *STEP_DONE_STATUSES],
                )
                unfinished.update(row[0] for row in cursor.fetchall())
        return unfinished

    def step_retry(
        self,
        *,
        report_id: int,
        task_id: str,
        attempt: int,
        error: str,
        not_before: datetime | None = None,
    ) -> None:
        error = clip(cleanse_text(error), aa_settings.ERROR_MESSAGE_MAX_CHARS)
        step_name = (
            AsyncActionStep.objects.filter(task_id=task_id)
            .values_list("task_name", flat=True)
            .first()
        )
        # The step's own guard drops a late or duplicated event; only then the workflow.
        if self.apply(STEP_MOVES["retry"], task_id, attempt=attempt, error=error):
            self.apply(
                WORKFLOW_MOVES["retry"],
                report_id,
                error=f"{step_name}: {error}",
                not_before=not_before or timezone.now(),
            )

    def step_fail(
        self,
        *,
        report_id: int,
        task_id: str,
        error_type: str,
        error_message: str,
        error_traceback: str,
    ) -> None:
        """The step failed, so the whole action has: the report names the step."""
        message, traceback = cleansed_error(error_message, error_traceback)
        now = timezone.now()
        self.apply(
            STEP_MOVES["fail"],
            task_id,
            at=now,
            error_type=error_type[:255],
            error_message=message,
            error_traceback=traceback,
        )
        step = (
            AsyncActionStep.objects.filter(task_id=task_id).values("position", "task_name").first()
        )
        where = (
            f"step {step_number(report_id=report_id, position=step['position'])} "
            f"({step['task_name']})"
            if step
            else f"task {task_id}"
        )
        self.apply(
            REPORT_MOVES["fail"],
            report_id,
            at=now,
            error_type=error_type[:255],
            error_message=clip(
                f"Failed at {where}: {message}", aa_settings.ERROR_MESSAGE_MAX_CHARS
            ),
            error_traceback=traceback,
        )

    def step_cancel(self, *, task_id: str, reason: str) -> bool:
        return self.apply(
            STEP_MOVES["cancel"], task_id, at=timezone.now(), reason=cleanse_text(reason)
        )

    # -- the worker's hot path: written behind when this tracker has a buffer ------------------

    def task_started(
        self,
        *,
        report_id: int,
        task_id: str | None,
        attempt: int,
        now: datetime,
        eager: bool = False,
        redelivered: bool = False,
    ) -> None:
        """A tracked task started (`task_id` given for a workflow's step).

        A redelivered message is written at once: the buffer would merge its start into
        its success and the extra attempt would not be counted.
        """
        if self.buffer is not None and not eager and not redelivered:
            self.buffer.started(report_id, task_id, attempt, now)
        elif task_id is not None:
            self.steps_start(
                [
                    {
                        "key": task_id,
                        "report_id": report_id,
                        "attempt": attempt,
                        "at": now,
                        "redelivered": redelivered,
                    }
                ]
            )
        else:
            self.start(report_id=report_id, attempt=attempt, at=now, redelivered=redelivered)

    def task_succeeded(
        self,
        *,
        report_id: int,
        task_id: str | None,
        attempt: int,
        now: datetime,
        eager: bool = False,
        durable: bool = False,
    ) -> None:
        """A tracked task succeeded.

        `durable` (a task acknowledged late): written before the task returns, so before
        its message is acknowledged - a worker killed right after cannot take it along.
        The buffer still merges the task's start into the same statement.
        """
        if self.buffer is not None and not eager:
            self.buffer.finished(report_id, task_id, attempt, now)
            if durable:
                self.buffer.flush()
        elif task_id is not None:
            self.steps_succeed(
                [
                    {
                        "key": task_id,
                        "report_id": report_id,
                        "attempt": attempt,
                        "started": now,
                        "at": now,
                    }
                ]
            )
        else:
            self.succeed(report_id=report_id, attempt=attempt, at=now)

    def flush(self) -> None:
        """Write what this process holds now; called before any move written at once."""
        if self.buffer is not None:
            self.buffer.flush()

    def stop(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.buffer is not None:
            self.write(self.buffer.stop, what="the last buffered statuses")
        if self.backlog is not None:
            self.backlog.stop()

    # -- connections ------------------------------------------------------------------------

    def around_task(self, *, eager: bool) -> None:
        """Before and after each task: close connections Django's rules say are done."""
        if self.manage_connections and not eager:
            close_old_connections()


_DEFAULT = Tracker()
_installed: Tracker | None = None


def install_tracker(tracker: Tracker | None, *, stop_previous: bool = True) -> None:
    """Make `tracker` this process's (a worker does so when it starts); None: back to default.

    The previous one is stopped (its buffer written) unless it is a forked parent's copy.
    """
    global _installed
    previous, _installed = _installed, tracker
    if stop_previous and previous is not None and previous is not tracker:
        previous.stop()


def get_tracker() -> Tracker:
    """This process's tracker: the worker's own, or one that writes everything at once."""
    return _installed or _DEFAULT
