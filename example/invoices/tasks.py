"""Thin tasks: they take ids, call services, and decide only *whether and when* to retry.

`__sync_invoices` is private (the talk's double underscore): it is started only through
`workflows.sync_invoices`, under a report.
"""

from __future__ import annotations

import random

from celery import Task, shared_task
from django.conf import settings

from example.invoices import services
from example.invoices.client import InvoicesPlusTransientError

BACKOFF_CAP_SECONDS = 300.0


def retry_countdown(exc: InvoicesPlusTransientError, *, retries: int) -> float:
    """Honour the API's Retry-After; otherwise exponential backoff with jitter."""
    if exc.retry_after is not None:
        return min(exc.retry_after, BACKOFF_CAP_SECONDS)  # sooner would just be another 429
    base = settings.INVOICES_PLUS_BACKOFF_SECONDS
    return min(base * 2**retries, BACKOFF_CAP_SECONDS) * random.uniform(0.5, 1.0)  # noqa: S311


@shared_task(bind=True)
def __sync_invoices(self: Task, account_id: int, page: int = 1) -> int:
    """Sync every page of the account's invoices, from `page` on; returns the pages done.

    Permanent errors (a rejected key, malformed data) propagate: the report fails at once.
    """
    done = 0
    current: int | None = page
    while current is not None:
        try:
            next_page = services.invoices_sync_page(account_id=account_id, page=current)
        except InvoicesPlusTransientError as exc:
            # Resume at the page that failed: the pages before it are stored (idempotently).
            raise self.retry(
                exc=exc,
                args=(account_id,),
                kwargs={"page": current},
                countdown=retry_countdown(exc, retries=self.request.retries),
                max_retries=settings.INVOICES_PLUS_MAX_RETRIES,
            ) from exc
        done += 1
        current = next_page
    return done


@shared_task
def sync_invoices_on_schedule() -> list[int]:
    """Beat's entry point: start one tracked sync per account, with origin "schedule"."""
    return [report.pk for report in services.invoice_syncs_start_scheduled()]
