"""Retention: the only way reports leave the database (the admin cannot delete them).

Finished reports older than a cutoff go in small batches, each batch its own short
transaction, so a purge of millions of rows never holds long locks or a long transaction.
An active report (pending, running, retrying) is never deleted, whatever its age.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import router, transaction
from django.db.models import QuerySet
from django.utils import timezone

from async_actions.models import FINAL_STATUSES, AsyncActionReport


def _purgeable(cutoff: datetime) -> QuerySet[AsyncActionReport]:
    # created_at bounds the scan to the old end of aa_report_latest (status is not indexed).
    return AsyncActionReport.objects.filter(
        created_at__lt=cutoff, status__in=FINAL_STATUSES, finished_at__lt=cutoff
    )


def reports_purge_count(*, older_than: timedelta) -> int:
    """How many reports `reports_purge` would delete now."""
    return _purgeable(timezone.now() - older_than).count()


def reports_purge(
    *,
    older_than: timedelta,
    batch_size: int = 1000,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Delete finished reports (and their steps) finished more than `older_than` ago.

    Returns how many reports were deleted; `on_batch(deleted_so_far)` after each batch.
    """
    if older_than < timedelta(0):
        raise ValueError(f"older_than must not be negative, got {older_than}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    cutoff = timezone.now() - older_than
    using = router.db_for_write(AsyncActionReport)
    deleted = 0
    while True:
        with transaction.atomic(using=using):
            ids = list(_purgeable(cutoff).order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                return deleted
            # The status is checked again in the DELETE: a report cannot become active once
            # final, but this keeps the rule in the statement that does the deleting.
            AsyncActionReport.objects.filter(pk__in=ids, status__in=FINAL_STATUSES).delete()
        deleted += len(ids)
        if on_batch is not None:
            on_batch(deleted)
