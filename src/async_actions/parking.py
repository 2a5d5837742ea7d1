"""Finding unfinished reports without an index on their status.

Every status move would rewrite every index of the report's row if any index held a
column the move changes (PostgreSQL makes a "HOT" update, which touches no index, only
when no indexed column changes). So no index holds `status`, `started_at` or
`finished_at`, and the unfinished reports the reaper and the dashboard look for are found
in two places instead:

- the recent ones, by creation time (the `aa_report_latest` index), from a mark;
- the older ones, by `not_before` (the small `aa_report_waiting` index, which holds only
  the rows where it is set). Before the mark passes an unfinished report, the reaper
  parks it: it sets its `not_before` to its creation time, which changes no rule that
  reads `not_before` (the earliest time it could run). A countdown/ETA or a retry sets it
  too, and a lost report keeps it (its real outcome may still come), so they are found
  whatever their age. A success, failure or cancel clears it, so the index stays as small
  as the number of unfinished reports.

The mark lives in the database (one row), so any number of reapers on any hosts share it.
A report whose caller's transaction commits more than PARK_AFTER after the start is older
than the mark before anyone can see it: the reaper never sees it (see docs/reliability.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import router, transaction
from django.db.models import F, Q
from django.utils import timezone

from async_actions.conf import aa_settings
from async_actions.models import ACTIVE_STATUSES, AsyncActionReapMark, AsyncActionReport, Status

# Before any reaper ran, every report is above the mark.
_NO_MARK = datetime(1970, 1, 1, tzinfo=UTC)
# The statuses of reports that may still move, so are kept where the reaper finds them.
FINDABLE_STATUSES = (*ACTIVE_STATUSES, Status.LOST)


def _mark() -> datetime:
    marks = AsyncActionReapMark.objects.values_list("parked_before", flat=True)
    return next(iter(marks), None) or _NO_MARK


def unfinished_reports() -> Q:
    """Where every unfinished report is: above the mark, or parked (`not_before` set)."""
    return Q(created_at__gte=_mark()) | Q(not_before__isnull=False)


def having_status(status: str) -> Q:
    """`status = %s`, and for the statuses kept findable, where to look for them."""
    if status in FINDABLE_STATUSES:
        return Q(status=status) & unfinished_reports()
    return Q(status=status)


def park(*, now: datetime | None = None) -> int:
    """Park the unfinished reports the mark is about to pass, then move it; returns how many.

    The mark stays PARK_AFTER behind the present, whatever `now` a caller passes (a
    test's future must not move it past reports still being written).
    """
    now = min(now or timezone.now(), timezone.now())
    horizon = now - timedelta(seconds=aa_settings.PARK_AFTER)
    mark = _mark()
    if horizon <= mark:
        return 0
    using = router.db_for_write(AsyncActionReport)
    with transaction.atomic(using=using):
        parked = AsyncActionReport.objects.filter(
            created_at__gte=mark,
            created_at__lt=horizon,
            status__in=ACTIVE_STATUSES,
            not_before__isnull=True,
        ).update(not_before=F("created_at"))
        # Only forward: reapers running at once each park what they saw.
        moved = AsyncActionReapMark.objects.filter(
            pk=AsyncActionReapMark.ONLY, parked_before__lt=horizon
        ).update(parked_before=horizon)
        if not moved:
            AsyncActionReapMark.objects.get_or_create(
                pk=AsyncActionReapMark.ONLY, defaults={"parked_before": horizon}
            )
    return parked
