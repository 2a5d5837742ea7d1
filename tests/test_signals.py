"""The library's signals, received on a real worker once the state is written."""

import pytest

from async_actions import Status, start_action
from async_actions.models import AsyncActionReport
from async_actions.testing import wait_for, wait_for_report
from async_actions.tracker import Tracker
from tests.testapp import tasks
from tests.testapp.models import SignalRecord

pytestmark = pytest.mark.django_db(transaction=True)


def _kinds(report):
    return list(
        SignalRecord.objects.filter(report_id=report.pk)
        .order_by("id")
        .values_list("kind", "status", "error")
    )


@pytest.mark.usefixtures("async_actions_worker")
def test_a_failure_sends_started_then_finished_with_its_status():
    report = wait_for_report(start_action("Break", tasks.fail.s("closed")))
    assert report.status == Status.FAILED

    records = wait_for(lambda: len(_kinds(report)) >= 2 and _kinds(report), what="signals")
    assert records == [("started", "", ""), ("finished", Status.FAILED, "")]


@pytest.mark.usefixtures("async_actions_worker")
def test_a_retry_sends_retrying_with_the_error_and_one_finished():
    # A countdown: with none, attempt 2 may start before attempt 1's retry event is handled
    # (Celery publishes the retry first); the report then never shows retrying, and no
    # retrying signal is sent for it (see the test below).
    report = wait_for_report(start_action("Retry later", tasks.retry_once_later.s()))
    assert report.status == Status.OK

    retrying = ("retrying", "", "ConnectionError: attempt 1 failed")
    records = wait_for(
        lambda: {("finished", "ok", ""), retrying} <= set(_kinds(report)) and _kinds(report),
        what="retrying and finished",
    )
    assert [r for r in records if r[0] == "finished"] == [("finished", Status.OK, "")]


@pytest.mark.usefixtures("async_actions_worker")
def test_a_workflow_sends_one_started_and_one_finished():
    from celery import chain

    report = wait_for_report(start_action("Two", chain(tasks.noop.si(), tasks.noop.si())))
    assert report.status == Status.OK

    records = wait_for(lambda: ("finished", "ok", "") in _kinds(report) and _kinds(report))
    assert [r[0] for r in records] == ["started", "finished"]


@pytest.mark.parametrize("batched", [False, True], ids=["at-once", "batched"])
def test_a_move_that_changes_nothing_sends_nothing(batched):
    report = AsyncActionReport.objects.create(action="Done twice")
    tracker = Tracker()
    tracker.succeed(report_id=report.pk, attempt=1)
    if batched:
        from async_actions.moves import REPORT_MOVES

        moved = tracker.apply_many(
            REPORT_MOVES["succeed"],
            [
                {
                    "key": report.pk,
                    "attempt": 1,
                    "started": report.created_at,
                    "at": report.created_at,
                    "worker": "",
                }
            ],
        )
        assert moved == []
    else:
        assert not tracker.succeed(report_id=report.pk, attempt=1)

    assert _kinds(report) == [("finished", Status.OK, "")]


def test_a_late_retry_that_only_records_its_error_sends_no_retrying():
    report = AsyncActionReport.objects.create(action="Went on", attempts=2)
    tracker = Tracker()
    tracker.succeed(report_id=report.pk, attempt=2)

    assert tracker.retry(report_id=report.pk, attempt=1, error="E: attempt 1")

    report.refresh_from_db()
    assert (report.status, report.last_retry_error) == (Status.OK, "E: attempt 1")
    assert _kinds(report) == [("finished", Status.OK, "")]
