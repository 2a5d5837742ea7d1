"""Status moves of a report, each one conditional UPDATE.

Every move states in its WHERE clause which states it may leave, so a late, duplicated or
out-of-order event (a redelivered message, a retry racing a success) matches no row and
changes nothing: a finished report never moves back and an attempt is never counted twice.
Each function returns whether it moved the report.
"""

from __future__ import annotations

from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from async_actions.cleansing import cleanse_text, cleanse_texts
from async_actions.conf import aa_settings
from async_actions.models import ACTIVE_STATUSES, AsyncActionReport, Status


def _active(report_id: int):  # type: ignore[no-untyped-def]
    return AsyncActionReport.objects.filter(pk=report_id, status__in=ACTIVE_STATUSES)


def clip(text: str, limit: int, *, keep_end: bool = False) -> str:
    if len(text) <= limit:
        return text
    return "..." + text[-limit:] if keep_end else text[:limit] + "..."


def report_mark_running(*, report_id: int, attempt: int) -> bool:
    """Attempt `attempt` (1-based) has started; a redelivery of a started attempt is a no-op."""
    return bool(
        _active(report_id)
        .filter(attempts__lt=attempt)
        .update(
            status=Status.RUNNING,
            attempts=attempt,
            started_at=Coalesce(F("started_at"), Value(timezone.now())),
        )
    )


def report_mark_retrying(*, report_id: int, attempt: int, error: str) -> bool:
    """Attempt `attempt` failed and will be retried.

    Celery publishes the retry before this event is handled, so later attempts may already
    be running, retrying or finished: the status moves to retrying only if this attempt is
    still the latest, and the error is kept only if no later attempt's error was.
    """
    error = clip(cleanse_text(error), aa_settings.ERROR_MESSAGE_MAX_CHARS)
    return bool(
        AsyncActionReport.objects.filter(pk=report_id, last_retry_attempt__lt=attempt)
        # A finished report takes the error only if a later attempt really ran.
        .filter(Q(status__in=ACTIVE_STATUSES) | Q(attempts__gt=attempt))
        .update(
            status=Case(
                When(attempts=attempt, status__in=ACTIVE_STATUSES, then=Value(Status.RETRYING)),
                default=F("status"),
            ),
            last_retry_error=error,
            last_retry_attempt=attempt,
        )
    )


def report_mark_ok(*, report_id: int) -> bool:
    return bool(_active(report_id).update(status=Status.OK, finished_at=timezone.now()))


def report_mark_failed(
    *, report_id: int, error_type: str, error_message: str, error_traceback: str = ""
) -> bool:
    """Record a failure, with secrets scrubbed from the message and the traceback."""
    message, traceback = cleansed_error(error_message, error_traceback)
    return write_failure(
        report_id=report_id, error_type=error_type, message=message, traceback=traceback
    )


def cleansed_error(message: str, traceback: str) -> tuple[str, str]:
    """(message, traceback) scrubbed of secrets and clipped to the stored sizes."""
    message, traceback = cleanse_texts(message, traceback)
    return (
        clip(message, aa_settings.ERROR_MESSAGE_MAX_CHARS),
        clip(traceback, aa_settings.TRACEBACK_MAX_CHARS, keep_end=True),
    )


def write_failure(*, report_id: int, error_type: str, message: str, traceback: str) -> bool:
    """Fail the report with an error already scrubbed by `cleansed_error`."""
    return bool(
        _active(report_id).update(
            status=Status.FAILED,
            finished_at=timezone.now(),
            error_type=error_type[:255],
            error_message=message,
            error_traceback=traceback,
        )
    )


def report_mark_cancelled(*, report_id: int, reason: str) -> bool:
    return bool(
        _active(report_id).update(
            status=Status.CANCELLED, finished_at=timezone.now(), error_message=cleanse_text(reason)
        )
    )
