"""The signatures a sync runs, built in one place.

Today a sync is one task. When the library has `@chainable` with per-step tracking, this is
where it becomes `fetch page -> store page` steps; callers (services) do not change.
"""

from __future__ import annotations

from celery.canvas import Signature

# The module, not the task: tasks imports services, which imports this module.
from example.invoices import tasks


def sync_invoices(*, account_id: int) -> Signature:
    return tasks.__sync_invoices.s(account_id)
