"""Maintenance tasks for Celery beat (found by the app's autodiscover_tasks()).

    CELERY_BEAT_SCHEDULE = {
        "async-actions-purge": {
            "task": "async_actions.tasks.purge_reports",
            "schedule": crontab(hour=3, minute=0),
            "kwargs": {"older_than_days": 90},
        },
    }

See docs/reliability.md for the full schedule.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from async_actions.retention import reports_purge


@shared_task(name="async_actions.tasks.purge_reports", ignore_result=True)
def purge_reports(older_than_days: float, batch_size: int = 1000) -> int:
    """Delete finished reports older than `older_than_days` (the admin cannot)."""
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
