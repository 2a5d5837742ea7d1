"""Retry from the stored signature, cancel, and progress - on a real worker.

The embedded set runs on kombu's filesystem transport, where the worker's remote control is
off: a revoke never reaches it, so these tests exercise the worker's own cancel check.
"""

import pytest
from celery import chain
from django.db import transaction
from django.utils import timezone

from async_actions import (
    AsyncActionReport,
    AsyncActionStep,
    InvalidActionError,
    Status,
    StepStatus,
    cancel_action,
    retry_action,
    set_progress,
    start_action,
)
from async_actions.dashboard import report_progress_now
from async_actions.testing import wait_for, wait_for_report
from tests.testapp import tasks
from tests.testapp.models import Marker

pytestmark = pytest.mark.django_db(transaction=True)
worker = pytest.mark.usefixtures("async_actions_worker")


@worker
def test_retry_action_needs_only_the_report():
    failed = wait_for_report(start_action("Flaky chain", chain(tasks.add.s(1, 2), tasks.fail.s())))
    assert failed.status == Status.FAILED

    again = wait_for_report(retry_action(failed))

    assert again.retry_of == failed and again.status == Status.FAILED
    # Step 1's success is written behind (50 ms); step 2's failure at once.
    wait_for(
        lambda: list(again.steps.values_list("status", flat=True)) == ["ok", "failed"],
        what="both steps of the retry to be recorded",
    )
    assert set(again.steps.values_list("task_id", flat=True)).isdisjoint(
        failed.steps.values_list("task_id", flat=True)
    )


@worker
def test_a_passed_signature_still_wins_over_the_stored_one():
    failed = wait_for_report(start_action("Import", tasks.fail.s("no")))

    again = wait_for_report(retry_action(failed, tasks.create_marker.s("fixed")))

    assert again.status == Status.OK and Marker.objects.filter(name="fixed").exists()


def test_retry_without_a_stored_signature_says_what_to_pass():
    old = AsyncActionReport.objects.create(action="From before 0.2", status=Status.FAILED)

    with pytest.raises(InvalidActionError, match="no stored signature.*pass the signature"):
        retry_action(old)
    assert AsyncActionReport.objects.count() == 1


def test_the_stored_signature_is_json_without_run_ids():
    report = start_action("Chain", chain(tasks.add.s(1, 2), tasks.add.s(3)))

    stored = report.signature
    assert stored["subtask_type"] == "chain"
    assert [t["task"] for t in stored["kwargs"]["tasks"]] == ["tests.testapp.tasks.add"] * 2
    assert "task_id" not in str(stored) and "async_action_report_id" not in str(stored)


@worker
def test_cancelling_a_slow_workflow_runs_no_later_step_and_keeps_the_running_one_truthful():
    report = start_action(
        "Slow chain",
        chain(
            tasks.create_marker.si("cancel-1", sleep=1.5),
            tasks.create_marker.si("cancel-2"),
            tasks.create_marker.si("cancel-3"),
        ),
    )
    wait_for(
        lambda: report.steps.filter(status=StepStatus.RUNNING).exists(), what="step 1 to start"
    )

    assert cancel_action(report)
    report = wait_for_report(report, timeout=60)
    # Step 1's success may be written a moment after the skipped step 2 finished the report.
    steps = wait_for(
        lambda: (s := list(report.steps.values_list("status", flat=True)))[0] != "running" and s,
        what="step 1 to be recorded",
    )

    assert report.status == Status.CANCELLED and report.cancel_requested_at is not None
    assert steps == ["ok", "cancelled", "cancelled"]  # step 1 really finished; the rest never ran
    assert list(Marker.objects.values_list("name", flat=True)) == ["cancel-1"]
    assert not cancel_action(report)  # finished: nothing to cancel


@worker
def test_a_cancelled_single_task_that_then_succeeds_is_reported_ok():
    report = start_action("Slow task", tasks.create_marker.s("slow", sleep=1.0))
    wait_for_report(report, statuses=[Status.RUNNING])

    assert cancel_action(report)
    report = wait_for_report(report)

    assert report.status == Status.OK  # never "cancelled" about work that succeeded
    assert report.cancel_requested_at is not None


@worker
def test_an_action_cancelled_before_a_worker_took_it_never_runs():
    with transaction.atomic():  # the message leaves at commit: the cancel is there first
        report = start_action("Queued", chain(tasks.create_marker.si("q1"), tasks.noop.si()))
        assert cancel_action(report)

    report = wait_for_report(report)

    assert report.status == Status.CANCELLED
    assert list(report.steps.values_list("status", flat=True)) == ["cancelled", "cancelled"]
    assert not Marker.objects.filter(name="q1").exists()


def test_set_progress_refuses_impossible_values():
    for args, message in [
        ((1, 0), "total of 1 or more"),
        ((5, 3), "0 <= current <= total"),
        ((-1, 3), "0 <= current"),
        ((1, 2, 3), "message must be a string"),
    ]:
        with pytest.raises(InvalidActionError, match=message):
            set_progress(*args)


def test_set_progress_outside_a_tracked_task_writes_nothing():
    assert set_progress(1, 2) is False


@worker
def test_progress_reaches_the_report_and_tight_loops_are_throttled():
    report = wait_for_report(start_action("Count", tasks.progress_writes.s(5000)))

    written = Marker.objects.get(name__startswith="progress-writes:").name.split(":")[1]
    assert report.status == Status.OK
    assert 1 <= int(written) < 5000  # throttled, and the last one always written
    assert (report.progress_current, report.progress_total) == (5000, 5000)


@worker
def test_a_workflow_step_reports_finer_progress_than_steps_done():
    report = start_action(
        "Count in steps",
        chain(tasks.count_with_progress.si(4, 0.5), tasks.noop.si()),
    )
    wait_for(
        lambda: AsyncActionStep.objects.filter(report=report, progress_current__gte=1).exists(),
        what="the first step's progress",
        timeout=30,
    )
    moving = report_progress_now(AsyncActionReport.objects.get(pk=report.pk))
    report = wait_for_report(report)

    assert moving.total == 2 and 0 < moving.percent < 50  # inside step 1 of 2
    assert report_progress_now(report).percent == 100
    assert report.progress_message == "item 4 of 4"
    assert report.finished_at <= timezone.now()


@worker
def test_steps_are_numbered_from_one_without_gaps_after_a_replace(client):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("numbers", "n@example.com", None))
    report = wait_for_report(
        start_action(
            "Replaced",
            chain(tasks.add.si(1, 1), tasks.inner_chain_replaced.si(), tasks.fail.si("last")),
        )
    )

    steps = client.get(f"/actions/api/{report.public_id}/").json()["steps"]
    numbers = sorted({step["position"] for step in steps})
    assert numbers == list(range(1, len(numbers) + 1))  # from 1, no gaps
    failed = next(step for step in steps if step["status"] == "failed")
    assert report.error_message.startswith(f"Failed at step {failed['position']} ")


@worker
def test_cancel_with_terminate_stops_a_running_step_where_remote_control_works(settings):
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        pytest.skip("The filesystem transport has no remote control: nothing can be terminated.")
    report = start_action(
        "Long step", chain(tasks.create_marker.si("killed", sleep=30), tasks.noop.si())
    )
    wait_for(lambda: report.steps.filter(status=StepStatus.RUNNING).exists(), what="the step")

    assert cancel_action(report, terminate=True)
    report = wait_for_report(report, timeout=30)

    assert report.status == Status.CANCELLED
    assert list(report.steps.values_list("status", flat=True)) == ["cancelled", "cancelled"]
    assert not Marker.objects.filter(name="killed").exists()
