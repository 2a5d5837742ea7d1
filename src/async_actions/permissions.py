"""Who may see and steer which reports.

- `async_actions.view_asyncactionreport`: every report;
- anyone signed in: the reports they started themselves;
- retrying and cancelling need `retry_asyncactionreport` / `cancel_asyncactionreport`, on a
  report the user may see. A report the user may not see is treated as one that does not
  exist, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from async_actions.models import AsyncActionReport

VIEW_ALL = "async_actions.view_asyncactionreport"
RETRY = "async_actions.retry_asyncactionreport"
CANCEL = "async_actions.cancel_asyncactionreport"


def visible_reports(user: Any) -> QuerySet[AsyncActionReport]:
    reports = AsyncActionReport.objects.all()
    if not getattr(user, "is_authenticated", False):
        return reports.none()
    if user.has_perm(VIEW_ALL):
        return reports
    return reports.filter(triggered_by=user)


def can_retry(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(RETRY))


def can_cancel(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(CANCEL))
