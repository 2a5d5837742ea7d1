"""eager_actions ends reports and steps exactly as a real worker does: the same tasks, the
same assertions, run once on `action_worker` and once with `eager_actions`."""

from typing import Any

import pytest
from celery import chain, chord, group

from async_actions import Status, StepStatus, start_action
from async_actions.testing import wait_for, wait_for_report
from tests.testapp import tasks

MODES = [
    pytest.param("action_worker", marks=pytest.mark.django_db(transaction=True), id="worker"),
    pytest.param("eager_actions", marks=pytest.mark.django_db, id="eager"),
]
pytestmark = pytest.mark.parametrize("mode", MODES)


@pytest.fixture
def run(request: pytest.FixtureRequest, mode: str) -> Any:
    """start_action, then the report once final, on a worker or eagerly."""
    request.getfixturevalue(mode)

    def run(name: str, signature: Any) -> Any:
        report = wait_for_report(start_action(name, signature))
        # A worker process may hold a step's success for TRACKING_FLUSH_INTERVAL after
        # another process failed the report: wait for the steps to settle too.
        wait_for(lambda: not report.steps.filter(status="running").exists(), what="steps")
        return report

    return run


def steps_of(report: Any) -> list[tuple[int, str, str, int]]:
    return [
        (s.position, s.branch, s.status, s.attempts)
        for s in report.steps.order_by("position", "branch")
    ]


def test_success(run, mode):
    report = run("Add", tasks.add.s(2, 3))

    assert (report.status, report.attempts, report.error_message) == (Status.OK, 1, "")
    assert report.created_at <= report.started_at <= report.finished_at


def test_failure_keeps_type_message_and_traceback(run, mode):
    report = run("Break", tasks.fail.s("the ledger is closed"))

    assert report.status == Status.FAILED
    assert report.attempts == 1
    assert report.error_type == "ValueError"
    assert report.error_message == "ValueError: the ledger is closed"
    assert "raise ValueError(message)" in report.error_traceback
    assert report.finished_at is not None


def test_secrets_are_scrubbed(run, mode):
    report = run("Leak", tasks.leak_secret.s())

    assert report.status == Status.FAILED
    assert "api_key=********************" in report.error_message
    assert "ipk_live" not in report.error_message + report.error_traceback


def test_retries_then_success(run, mode):
    report = run("Flaky twice", tasks.flaky.s(2))

    assert (report.status, report.attempts) == (Status.OK, 3)
    # Celery publishes a retry before it signals it, so on a worker attempt 2's retry event
    # may be written after attempt 3's success; the tracker still takes its error then.
    expected = "ConnectionError: attempt 2 failed"
    wait_for(
        lambda: type(report).objects.filter(pk=report.pk, last_retry_error=expected).exists(),
        what="attempt 2's retry error",
        timeout=10,
    )


def test_retries_exhausted(run, mode):
    report = run("Always retry", tasks.always_retry.s())

    assert (report.status, report.attempts) == (Status.FAILED, 3)
    assert report.error_type == "TimeoutError"
    assert report.error_message == "TimeoutError: the service is down"
    assert report.last_retry_error == "TimeoutError: the service is down"


def test_chain_failing_in_the_middle(run, mode):
    report = run("Chain", chain(tasks.add.si(1, 1), tasks.fail.si("step two"), tasks.noop.si()))

    assert report.status == Status.FAILED
    assert report.error_message == (
        "Failed at step 2 (tests.testapp.tasks.fail): ValueError: step two"
    )
    assert "raise ValueError(message)" in report.error_traceback
    assert steps_of(report) == [
        (0, "", StepStatus.OK, 1),
        (1, "", StepStatus.FAILED, 1),
        (2, "", StepStatus.PENDING, 0),
    ]


def test_chain_with_a_retried_step(run, mode):
    report = run("Chain", chain(tasks.flaky_step.si("a"), tasks.add.si(1, 2)))

    assert (report.status, report.total_steps) == (Status.OK, 2)
    # On a worker the step's retry event may be written after the workflow finished (Celery
    # publishes the retry first); the tracker still takes its error then.
    expected = "tests.testapp.tasks.flaky_step: ConnectionError: a flaked"
    wait_for(
        lambda: type(report).objects.filter(pk=report.pk, last_retry_error=expected).exists(),
        what="the step's retry error",
        timeout=10,
    )
    assert steps_of(report) == [(0, "", StepStatus.OK, 2), (1, "", StepStatus.OK, 1)]


def test_chord(run, mode):
    report = run("Chord", chord(group(tasks.add.si(1, i) for i in range(3)), tasks.collect.s()))

    assert report.status == Status.OK
    assert steps_of(report) == [
        (0, "0", StepStatus.OK, 1),
        (0, "1", StepStatus.OK, 1),
        (0, "2", StepStatus.OK, 1),
        (1, "", StepStatus.OK, 1),
    ]


def test_talk_pattern_task_with_the_mixin(run, mode):
    report = run("Talk", tasks.talk_style.s(should_fail=True))

    assert report.status == Status.FAILED
    assert report.error_type == "RuntimeError"
    assert report.attempts == 1
