"""The library's own Celery tasks (found by autodiscover_tasks: async_actions is an installed app).

- `run_django_task`: the worker side of every django.tasks run, imported by
  CeleryBackend.enqueue, so a project registers nothing per django.tasks function.
- Maintenance for Celery beat (docs/reliability.md has the schedule)::

    CELERY_BEAT_SCHEDULE = {
        "async-actions-reap": {"task": "async_actions.tasks.reap_lost", "schedule": 30.0},
        "async-actions-relay": {"task": "async_actions.tasks.relay_unsent", "schedule": 10.0},
        "async-actions-purge": {
            "task": "async_actions.tasks.purge_reports",
            "schedule": crontab(hour=3, minute=0),
            "kwargs": {"older_than_days": 90},
        },
    }
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Task, shared_task

RUN_DJANGO_TASK = "async_actions.run_django_task"


@shared_task(bind=True, name=RUN_DJANGO_TASK, ignore_result=True)
def run_django_task(
    self: Task[Any, Any],
    module_path: str,
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    backend: str,
    queue_name: str = "default",
    priority: int = 0,
    run_after: str | None = None,
) -> None:
    """Run the django.tasks function at `module_path`; its report holds the outcome.

    queue_name, priority and run_after are the Task's, as enqueued: Celery acts on its own
    options; these are here so the report's stored signature holds DEP 14's TaskResult.
    """
    from async_actions.django_tasks.runner import run

    run(self, module_path, args, kwargs, backend)


@shared_task(name="async_actions.tasks.purge_reports", ignore_result=True)
def purge_reports(older_than_days: float, batch_size: int = 1000) -> int:
    """Delete finished reports older than `older_than_days` (the admin cannot)."""
    from async_actions.retention import reports_purge

    return reports_purge(older_than=timedelta(days=older_than_days), batch_size=batch_size)


@shared_task(name="async_actions.tasks.relay_unsent", ignore_result=True)
def relay_unsent(limit: int = 500) -> int:
    """Publish the reports the broker could not take at start (see async_actions.outbox)."""
    from async_actions.outbox import reports_relay

    return reports_relay(limit=limit)


@shared_task(name="async_actions.tasks.reap_lost", ignore_result=True)
def reap_lost() -> int:
    """Mark lost the reports whose worker is silent, or that no worker took in time."""
    from async_actions.reaping import reports_reap

    return reports_reap().total


@shared_task(
    bind=True, name="async_actions.tasks.replay_success", ignore_result=True, acks_late=True
)
def replay_success(
    self: Task[Any, Any],
    report_id: int,
    task_id: str | None,
    attempt: int,
    at: str,
    worker: str = "",
) -> bool:
    """Write a success a worker kept in the broker while the database was down (spill.py)."""
    from django.db import DatabaseError

    from async_actions.spill import replay_success as write

    try:
        return write(report_id=report_id, task_id=task_id, attempt=attempt, at=at, worker=worker)
    except DatabaseError as exc:  # still down: again later, backing off to every 30 s
        raise self.retry(
            exc=exc, countdown=min(30, 2**self.request.retries), max_retries=None
        ) from exc
