"""A task started through start_action is tracked through its whole life, on a real worker."""

import pytest
from django.conf import settings

from async_actions import AsyncActionReport, Status, start_action
from async_actions.testing import wait_for, wait_for_report
from tests.testapp import tasks
from tests.testapp.models import Marker

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("async_actions_worker"),
]


def test_success_is_recorded_with_times_and_one_attempt():
    report = start_action("Add numbers", tasks.add.s(2, 3))

    report = wait_for_report(report)

    assert report.status == Status.OK
    assert report.attempts == 1
    assert report.task_name == "tests.testapp.tasks.add"
    assert report.created_at <= report.started_at <= report.finished_at
    assert report.error_message == ""


def test_failure_stores_type_message_and_traceback():
    report = wait_for_report(start_action("Break", tasks.fail.s("the ledger is closed")))

    assert report.status == Status.FAILED
    assert report.error_type == "ValueError"
    assert report.error_message == "ValueError: the ledger is closed"
    assert "Traceback" in report.error_traceback
    assert "raise ValueError(message)" in report.error_traceback
    assert report.finished_at is not None


def test_secret_setting_values_never_reach_the_database():
    secret = settings.INVOICES_PLUS_API_KEY

    report = wait_for_report(start_action("Leak", tasks.leak_secret.s()))

    assert report.status == Status.FAILED
    assert "api_key=********************" in report.error_message
    assert secret not in report.error_message
    assert secret not in report.error_traceback
    assert "PermissionError" in report.error_traceback


def test_retry_then_success_counts_attempts_and_keeps_last_retry_error():
    report = wait_for_report(start_action("Flaky twice", tasks.flaky.s(2)))

    assert report.status == Status.OK
    assert report.attempts == 3
    # Attempt 2's retry event may be handled after attempt 3's success was written (Celery
    # publishes the retry first); the report still takes its error then.
    wait_for(
        lambda: AsyncActionReport.objects.filter(
            pk=report.pk, last_retry_error="ConnectionError: attempt 2 failed"
        ).exists(),
        what="attempt 2's error",
    )


def test_retries_exhausted_fail_with_the_last_error():
    report = wait_for_report(start_action("Never works", tasks.always_retry.s()))

    assert report.status == Status.FAILED
    assert report.attempts == 3  # the first run and max_retries=2 retries
    assert report.error_type == "TimeoutError"
    assert "the service is down" in report.error_message


def test_a_worker_child_killed_mid_task_fails_the_report():
    report = wait_for_report(start_action("Die", tasks.kill_worker_child.s()))

    assert report.status == Status.FAILED
    assert report.error_type == "WorkerLostError"


def test_tasks_started_without_a_report_are_left_alone():
    tasks.create_marker.delay("untracked")
    tracked = wait_for_report(start_action("Marker", tasks.create_marker.s("tracked")))

    assert tracked.status == Status.OK
    assert set(Marker.objects.values_list("name", flat=True)) >= {"tracked"}
    from async_actions.models import AsyncActionReport

    assert AsyncActionReport.objects.count() == 1
