"""Batched step writes: the VALUES statement and the one-row form move steps the same way."""

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from async_actions import AsyncActionReport, AsyncActionStep, Status, StepStatus
from async_actions.buffer import WriteBehind
from async_actions.tracker import Tracker

pytestmark = pytest.mark.django_db


class OneRowAtATime(Tracker):
    """A tracker on a database without UPDATE ... FROM (VALUES ...)."""

    can_update_from_values = False  # type: ignore[assignment]


@pytest.fixture
def workflow():
    report = AsyncActionReport.objects.create(action="Two steps", total_steps=2)
    for position in range(2):
        AsyncActionStep.objects.create(
            report=report, task_id=f"t{position}", task_name="x", position=position
        )
    return report


def _state(report):
    report.refresh_from_db()
    steps = AsyncActionStep.objects.filter(report=report).order_by("position")
    return report.status, [(s.status, s.attempts) for s in steps]


def _row(report, task_id, attempt, at):
    return {"key": task_id, "report_id": report.pk, "attempt": attempt, "at": at, "started": at}


@pytest.mark.parametrize("tracker", [Tracker(), OneRowAtATime()], ids=["values", "one-row"])
def test_steps_move_and_complete_the_report(workflow, tracker):
    now = timezone.now()

    tracker.steps_start([_row(workflow, "t0", 1, now), _row(workflow, "t1", 2, now)])
    assert _state(workflow) == (Status.RUNNING, [("running", 1), ("running", 2)])

    tracker.steps_succeed([_row(workflow, "t0", 1, now)])
    assert _state(workflow) == (Status.RUNNING, [("ok", 1), ("running", 2)])

    # A duplicated, older start changes nothing.
    tracker.steps_start([_row(workflow, "t1", 1, now)])
    tracker.steps_succeed([_row(workflow, "t1", 2, now)])
    assert _state(workflow) == (Status.OK, [(StepStatus.OK, 1), (StepStatus.OK, 2)])
    assert AsyncActionStep.objects.get(task_id="t1").started_at == now
    assert AsyncActionStep.objects.get(task_id="t0").finished_at == now


@pytest.mark.parametrize("tracker", [Tracker(), OneRowAtATime()], ids=["values", "one-row"])
def test_a_step_started_and_finished_in_one_flush_is_written_once(
    workflow, tracker, django_assert_num_queries
):
    """Its success carries its start (as a report's does); the workflow still starts."""
    tracker = type(tracker)(worker="host:1")
    buffer = WriteBehind(tracker, interval=60)
    started, finished = timezone.now(), timezone.now() + timedelta(seconds=1)
    buffer.started(workflow.pk, "t0", 1, started)
    buffer.finished(workflow.pk, "t0", 1, finished)

    if tracker.can_update_from_values:
        # The workflow's start, the step's success, which workflows have steps left.
        with django_assert_num_queries(3):
            buffer.flush()
    else:
        buffer.flush()

    workflow.refresh_from_db()
    assert (workflow.status, workflow.started_at) == (Status.RUNNING, started)
    step = AsyncActionStep.objects.get(task_id="t0")
    assert (step.status, step.attempts, step.worker) == (StepStatus.OK, 1, "host:1")
    assert (step.started_at, step.finished_at) == (started, finished)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="table locks of PostgreSQL",
)
def test_completing_a_workflow_holds_no_report_lock_while_it_waits_for_the_steps():
    """Something locks the steps, then the reports (a TRUNCATE of both, a migration) while a
    worker completes a workflow: the completion waits without holding the reports, so the
    two cannot deadlock."""
    report = AsyncActionReport.objects.create(action="Done", status="running", total_steps=1)
    AsyncActionStep.objects.create(
        report=report, task_id="last", task_name="x", position=0, status=StepStatus.OK
    )
    steps = connection.ops.quote_name(AsyncActionStep._meta.db_table)
    reports = connection.ops.quote_name(AsyncActionReport._meta.db_table)
    completed: list[int] = []

    def complete() -> None:
        try:
            completed.append(Tracker().complete_workflows(report_ids=[report.pk]))
        finally:
            connections.close_all()  # this thread's connection

    worker = threading.Thread(target=complete)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {steps} IN ACCESS EXCLUSIVE MODE")
        worker.start()
        deadline = time.monotonic() + 10
        while True:  # until the completion waits for the steps
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                [AsyncActionStep._meta.db_table],
            )
            if cursor.fetchone()[0]:
                break
            assert time.monotonic() < deadline, "the completion never reached the steps"
            time.sleep(0.01)
        cursor.execute("SET LOCAL lock_timeout = '3s'")
        cursor.execute(f"LOCK TABLE {reports} IN ACCESS EXCLUSIVE MODE")
    worker.join(10)

    assert completed == [1]
    report.refresh_from_db()
    assert report.status == Status.OK
