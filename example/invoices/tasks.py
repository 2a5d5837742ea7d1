"""Thin tasks: they take ids, call one service, and decide only *whether and when* to retry.

The ones starting with `_` are private: they only make sense as steps of the workflows that
`workflows.py` builds, and are started only through them, under a report. The talk suggests
a double underscore; one is Python's usual "internal" mark, and a double one would be
name-mangled wherever a class body mentions the task.
"""

from __future__ import annotations

import random
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from async_actions import replace_with
from example.invoices import services, workflows
from example.invoices.client import InvoicesPlusTransientError

BACKOFF_CAP_SECONDS = 300.0


def retry_countdown(exc: InvoicesPlusTransientError, *, retries: int) -> float:
    """Honour the API's Retry-After; otherwise exponential backoff with jitter."""
    if exc.retry_after is not None:
        return min(exc.retry_after, BACKOFF_CAP_SECONDS)  # sooner would just be another 429
    base = settings.INVOICES_PLUS_BACKOFF_SECONDS
    return min(base * 2**retries, BACKOFF_CAP_SECONDS) * random.uniform(0.5, 1.0)  # noqa: S311


@shared_task(bind=True)
def _fetch_page(self: Task, account_id: int, page: int) -> dict[str, Any]:
    """Fetch one page. Transient errors retry this step only; permanent ones fail the action."""
    try:
        return services.invoices_fetch_page(account_id=account_id, page=page)
    except InvoicesPlusTransientError as exc:
        raise self.retry(
            exc=exc,
            countdown=retry_countdown(exc, retries=self.request.retries),
            max_retries=settings.INVOICES_PLUS_MAX_RETRIES,
        ) from exc


@shared_task
def _store_page(fetched: dict[str, Any], account_id: int) -> dict[str, int]:
    """Store the page the previous step fetched: one transaction, idempotent."""
    return services.invoices_store_page(account_id=account_id, fetched=fetched)


@shared_task(bind=True)
def _sync_remaining_pages(self: Task, stored: dict[str, int], account_id: int) -> dict[str, int]:
    """Page 1 said how many pages there are: put their fetch and store steps in this one's place.

    `replace_with`, not `chain(...).delay()`: the action (and a chord waiting on this account)
    goes on only once the spliced steps have finished - the talk's Problem 3.
    """
    remaining = workflows.sync_pages(account_id=account_id, first=2, last=stored["pages"])
    if not remaining:
        return stored
    return replace_with(self, workflows.as_chain(remaining))


@shared_task
def _summarize_accounts_sync(accounts_sync_id: int) -> dict[str, int]:
    """The fan-out's last step: runs once every account's sync has finished."""
    return services.accounts_sync_summarize(accounts_sync_id=accounts_sync_id)


@shared_task
def sync_all_accounts_on_schedule() -> int:
    """Beat's entry point: start one tracked "Sync all accounts", with origin "schedule"."""
    return services.accounts_sync_start_scheduled().pk
