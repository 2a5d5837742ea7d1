"""A success the database cannot take when a task is acknowledged late: kept in the broker.

With `acks_late`, a task's success must be durable before its message is acknowledged: a
worker killed right after must not take finished work with it. When the database is down
at that moment, the worker's memory is no such place. So the success is published as a
small message of its own, to the queue the task came from, and whichever worker takes it
writes it once the database is back (retrying with backoff for WRITE_RETRY_WINDOW).

The write-behind buffer and the retry backlog keep their own copies as well: every move is
a conditional UPDATE, so whichever write comes second changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import Celery
from django.utils import timezone

from async_actions.conf import aa_settings
from async_actions.tracker import get_tracker

logger = logging.getLogger(__name__)

REPLAY_TASK = "async_actions.tasks.replay_success"


def spill_success(
    app: Celery,
    *,
    queue: str | None,
    report_id: int,
    task_id: str | None,
    attempt: int,
    now: datetime,
    **ignored: Any,
) -> bool:
    """Publish the success for a later write; False if the broker did not take it either."""
    try:
        app.send_task(
            REPLAY_TASK,
            kwargs={
                "report_id": report_id,
                "task_id": task_id,
                "attempt": attempt,
                "at": now.isoformat(),
                # Whichever process writes it, this one ran it: not a rerun elsewhere.
                "worker": get_tracker().worker,
            },
            queue=queue,
            retry=False,
        )
    except Exception:  # the broker too: the in-memory copies are all there is
        logger.exception("Could not keep the success of report %s in the broker", report_id)
        return False
    logger.warning(
        "Database unreachable: the success of report %s is kept in the broker until it is back",
        report_id,
    )
    return True


def replay_success(
    *, report_id: int, task_id: str | None, attempt: int, at: str, worker: str = ""
) -> bool:
    """Write a spilled success (DatabaseError while the database is still down).

    `worker` is the process that ran it ("" from a message that does not say: the worker
    recorded at its start stays). Returns False when it is older than WRITE_RETRY_WINDOW:
    given up, loudly.
    """
    when = datetime.fromisoformat(at)
    if (timezone.now() - when).total_seconds() > aa_settings.WRITE_RETRY_WINDOW:
        logger.error(
            "Gave up the success of report %s after WRITE_RETRY_WINDOW=%gs",
            report_id,
            aa_settings.WRITE_RETRY_WINDOW,
        )
        return False
    tracker = get_tracker()
    if task_id is not None:
        row = {"key": task_id, "report_id": report_id, "attempt": attempt, "worker": worker}
        tracker.steps_succeed([{**row, "started": when, "at": when}])
    else:
        tracker.succeed(report_id=report_id, attempt=attempt, at=when, worker=worker)
    return True
