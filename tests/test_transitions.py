"""Late, duplicated and out-of-order events never corrupt a report."""

import pytest

from async_actions import AsyncActionReport, Status
from async_actions.tracker import Tracker

_tracker = Tracker()
report_mark_running = _tracker.start
report_mark_retrying = _tracker.retry
report_mark_ok = _tracker.succeed
report_mark_failed = _tracker.fail
report_mark_cancelled = _tracker.cancel

pytestmark = pytest.mark.django_db


@pytest.fixture
def report():
    return AsyncActionReport.objects.create(action="Transitions")


def _reload(report):
    report.refresh_from_db()
    return report


def test_a_duplicated_start_counts_one_attempt(report):
    assert report_mark_running(report_id=report.pk, attempt=1)
    started_at = _reload(report).started_at

    assert not report_mark_running(report_id=report.pk, attempt=1)

    report = _reload(report)
    assert (report.status, report.attempts, report.started_at) == (Status.RUNNING, 1, started_at)


def test_a_finished_report_never_moves_back(report):
    report_mark_running(report_id=report.pk, attempt=1)
    assert report_mark_ok(report_id=report.pk)
    finished_at = _reload(report).finished_at

    assert not report_mark_running(report_id=report.pk, attempt=2)
    assert not report_mark_retrying(report_id=report.pk, attempt=1, error="late")
    assert not report_mark_failed(report_id=report.pk, error_type="E", error_message="late")
    assert not report_mark_ok(report_id=report.pk)
    assert not report_mark_cancelled(report_id=report.pk, reason="late")

    report = _reload(report)
    assert (report.status, report.attempts, report.finished_at) == (Status.OK, 1, finished_at)
    assert report.error_message == "" and report.last_retry_error == ""


def test_first_final_event_wins(report):
    assert report_mark_failed(report_id=report.pk, error_type="ValueError", error_message="boom")
    assert not report_mark_ok(report_id=report.pk)

    assert _reload(report).status == Status.FAILED


def test_a_retry_event_arriving_after_the_next_attempt_started_keeps_it_running(report):
    report_mark_running(report_id=report.pk, attempt=1)
    # Attempt 2 starts on another worker before attempt 1's retry event is handled.
    report_mark_running(report_id=report.pk, attempt=2)

    assert report_mark_retrying(report_id=report.pk, attempt=1, error="Timeout: slow")

    report = _reload(report)
    assert (report.status, report.attempts) == (Status.RUNNING, 2)
    assert report.last_retry_error == "Timeout: slow"


def test_retrying_then_next_attempt(report):
    report_mark_running(report_id=report.pk, attempt=1)
    report_mark_retrying(report_id=report.pk, attempt=1, error="E: first")
    assert _reload(report).status == Status.RETRYING

    assert report_mark_running(report_id=report.pk, attempt=2)
    assert (_reload(report).status, _reload(report).attempts) == (Status.RUNNING, 2)


def test_an_old_attempts_redelivered_start_is_ignored(report):
    report_mark_running(report_id=report.pk, attempt=3)

    assert not report_mark_running(report_id=report.pk, attempt=2)
    assert _reload(report).attempts == 3


def test_long_errors_are_clipped_keeping_the_end_of_the_traceback(report, settings):
    settings.ASYNC_ACTIONS = {"ERROR_MESSAGE_MAX_CHARS": 10, "TRACEBACK_MAX_CHARS": 12}
    report_mark_failed(
        report_id=report.pk,
        error_type="E",
        error_message="0123456789abcdef",
        error_traceback="start ... the line that raised",
    )

    report = _reload(report)
    assert report.error_message == "0123456789..."
    assert report.error_traceback == "... that raised"


def test_a_retry_event_arriving_after_the_next_attempt_finished_records_only_the_error(report):
    report_mark_running(report_id=report.pk, attempt=1)
    report_mark_running(report_id=report.pk, attempt=2)
    report_mark_ok(report_id=report.pk)

    assert report_mark_retrying(report_id=report.pk, attempt=1, error="Timeout: slow")

    report = _reload(report)
    assert (report.status, report.attempts, report.last_retry_error) == (
        Status.OK,
        2,
        "Timeout: slow",
    )


def test_a_retry_event_two_attempts_late_changes_nothing(report):
    report_mark_running(report_id=report.pk, attempt=3)
    report_mark_retrying(report_id=report.pk, attempt=3, error="E: third")

    assert not report_mark_retrying(report_id=report.pk, attempt=1, error="E: first")
    assert _reload(report).last_retry_error == "E: third"


def test_a_late_retry_event_never_replaces_a_later_attempts_error(report):
    report_mark_running(report_id=report.pk, attempt=1)
    report_mark_running(report_id=report.pk, attempt=2)
    report_mark_retrying(report_id=report.pk, attempt=2, error="E: attempt 2 failed")
    report_mark_running(report_id=report.pk, attempt=3)

    assert not report_mark_retrying(report_id=report.pk, attempt=1, error="E: attempt 1 failed")

    report = _reload(report)
    assert (report.status, report.attempts) == (Status.RUNNING, 3)
    assert (report.last_retry_error, report.last_retry_attempt) == ("E: attempt 2 failed", 2)
