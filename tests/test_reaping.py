"""The reaper decides by heartbeats: a silent worker's reports are lost, a live one's never."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from async_actions import AsyncActionReport, Status
from async_actions.heartbeats import Heartbeat, beat
from async_actions.models import AsyncActionStep, AsyncActionWorker, StepStatus
from async_actions.reaping import reports_reap, workers_forget
from async_actions.testing import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _ago(**delta):
    return timezone.now() - timedelta(**delta)


def _worker(name, *, last_seen):
    host, pid = name.split(":")
    return AsyncActionWorker.objects.create(
        name=name, hostname=host, pid=int(pid), started_at=_ago(days=1), last_seen=last_seen
    )


def _running(action, *, worker, started, **fields):
    return AsyncActionReport.objects.create(
        action=action,
        status=Status.RUNNING,
        worker=worker,
        started_at=started,
        task_name="tests.testapp.tasks.add",
        attempts=1,
        **fields,
    )


def test_a_live_workers_long_task_is_never_lost_a_silent_ones_is():
    _worker("alive:1", last_seen=_ago(seconds=5))
    _worker("silent:2", last_seen=_ago(seconds=90))
    long_task = _running("Runs for a day", worker="alive:1", started=_ago(days=1))
    orphan = _running("Worker died", worker="silent:2", started=_ago(seconds=120))

    reaped = reports_reap()

    assert (reaped.silent_worker, reaped.total) == (1, 1)
    long_task.refresh_from_db()
    orphan.refresh_from_db()
    assert long_task.status == Status.RUNNING
    assert orphan.status == Status.LOST and orphan.lost_at is not None
    assert orphan.finished_at == orphan.lost_at
    assert "worker silent:2 has been silent since" in orphan.error_message
    assert "'tests.testapp.tasks.add'" in orphan.error_message


def test_a_worker_with_no_heartbeat_row_is_silent_after_the_grace():
    recent = _running("Just started", worker="ghost:3", started=_ago(seconds=10))
    old = _running("Long gone", worker="ghost:3", started=_ago(seconds=300))

    assert reports_reap().silent_worker == 1

    assert AsyncActionReport.objects.get(pk=recent.pk).status == Status.RUNNING
    lost = AsyncActionReport.objects.get(pk=old.pk)
    assert lost.status == Status.LOST and "ghost:3 has been silent and never beat" in (
        lost.error_message
    )


def test_the_lost_message_names_the_step_of_a_workflow():
    report = _running("Workflow", worker="", started=_ago(minutes=5), total_steps=2)
    AsyncActionStep.objects.create(
        report=report, task_id="a", task_name="first", position=0, status=StepStatus.OK
    )
    AsyncActionStep.objects.create(
        report=report,
        task_id="b",
        task_name="second",
        position=1,
        status=StepStatus.RUNNING,
        worker="silent:4",
        started_at=_ago(minutes=4),
    )

    reports_reap()

    assert (
        "while running step 2 ('second')"
        in AsyncActionReport.objects.get(pk=report.pk).error_message
    )


def test_a_pending_report_is_lost_only_lost_after_past_its_countdown(settings):
    settings.ASYNC_ACTIONS = {"LOST_AFTER": 3600}
    waiting = AsyncActionReport.objects.create(action="Countdown", not_before=_ago(minutes=30))
    dropped = AsyncActionReport.objects.create(action="Dropped", not_before=_ago(hours=2))
    unsent_fresh = AsyncActionReport.objects.create(action="Fresh")
    AsyncActionReport.objects.filter(pk__in=[waiting.pk, dropped.pk]).update(
        created_at=_ago(hours=3)
    )

    assert reports_reap().never_started == 1

    statuses = dict(AsyncActionReport.objects.values_list("pk", "status"))
    assert statuses == {
        waiting.pk: Status.PENDING,
        dropped.pk: Status.LOST,
        unsent_fresh.pk: Status.PENDING,
    }


def test_the_reap_command_says_why(capsys):
    _running("Worker died", worker="silent:5", started=_ago(minutes=5))

    call_command("async_actions_reap")

    assert "Marked 1 report(s) as lost: 1 with a silent worker" in capsys.readouterr().out


def test_heartbeats_record_each_process_and_stop():
    beat(hostname="node-a", pid=11)
    beat(hostname="node-a", pid=11)
    heartbeat = Heartbeat(name="node-b:12", interval=0.05).start()
    try:
        row = wait_for(lambda: AsyncActionWorker.objects.filter(name=heartbeat.name).first())
        first_seen = row.last_seen
        wait_for(
            lambda: AsyncActionWorker.objects.get(name=heartbeat.name).last_seen > first_seen,
            what="a second beat",
        )
    finally:
        heartbeat.stop()
    assert AsyncActionWorker.objects.filter(name="node-a:11").count() == 1
    assert not heartbeat._thread.is_alive()


def test_workers_silent_for_long_are_forgotten():
    _worker("old:1", last_seen=_ago(days=8))
    _worker("new:2", last_seen=_ago(seconds=1))

    assert workers_forget(older_than=timedelta(days=7)) == 1
    assert list(AsyncActionWorker.objects.values_list("name", flat=True)) == ["new:2"]


def test_start_action_records_when_a_countdown_lets_it_run():
    from async_actions import start_action
    from tests.testapp import tasks

    delayed = start_action("Later", tasks.noop.s().set(countdown=600))
    at_once = start_action("Now", tasks.noop.s())

    assert timedelta(seconds=590) < delayed.not_before - timezone.now() <= timedelta(seconds=600)
    assert at_once.not_before is None


def test_a_retrying_report_is_judged_by_when_its_next_attempt_was_due(settings):
    settings.ASYNC_ACTIONS = {"LOST_AFTER": 3600}
    _worker("alive:6", last_seen=_ago(seconds=1))
    waiting = _running("Retry soon", worker="alive:6", started=_ago(hours=3))
    dropped = _running("Retry lost", worker="alive:6", started=_ago(hours=3))
    AsyncActionReport.objects.filter(pk=waiting.pk).update(
        status=Status.RETRYING, not_before=_ago(minutes=10)
    )
    AsyncActionReport.objects.filter(pk=dropped.pk).update(
        status=Status.RETRYING, not_before=_ago(hours=2)
    )

    assert reports_reap().never_started == 1

    assert AsyncActionReport.objects.get(pk=waiting.pk).status == Status.RETRYING
    lost = AsyncActionReport.objects.get(pk=dropped.pk)
    assert lost.status == Status.LOST and "its next attempt" in lost.error_message
