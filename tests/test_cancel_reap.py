"""Cancelling an action, and reaping reports that would otherwise stay unfinished forever."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from async_actions import AsyncActionReport, InvalidActionError, Status, cancel_action, retry_action
from async_actions.tracker import get_tracker
from tests.testapp import tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_cancel_records_the_request_once_and_leaves_the_status_to_the_worker():
    report = AsyncActionReport.objects.create(action="Cancel me", task_id="t-1")

    assert cancel_action(report)
    first = AsyncActionReport.objects.get(pk=report.pk).cancel_requested_at
    assert cancel_action(report)  # still unfinished: asking again is fine, the first time stays

    report.refresh_from_db()
    assert (report.status, report.cancel_requested_at) == (Status.PENDING, first)
    assert first is not None
    AsyncActionReport.objects.filter(pk=report.pk).update(status=Status.OK)
    assert not cancel_action(report)


def _age(report, **delta):
    AsyncActionReport.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - timedelta(**delta)
    )


def test_reap_marks_only_stale_unfinished_reports_lost(capsys):
    stale_pending = AsyncActionReport.objects.create(action="Never consumed")
    _age(stale_pending, hours=2)
    stale_running = AsyncActionReport.objects.create(action="Worker died")
    get_tracker().start(report_id=stale_running.pk, attempt=1)
    AsyncActionReport.objects.filter(pk=stale_running.pk).update(
        started_at=timezone.now() - timedelta(hours=2)
    )
    fresh = AsyncActionReport.objects.create(action="Just started")
    finished_old = AsyncActionReport.objects.create(action="Done long ago", status=Status.OK)
    _age(finished_old, days=3)

    call_command("async_actions_reap", "--older-than", "3600")

    assert "Marked 2 report(s) as lost: 0 with a silent worker, 1 never started, 1 started" in (
        capsys.readouterr().out
    )
    statuses = dict(AsyncActionReport.objects.values_list("action", "status"))
    assert statuses == {
        "Never consumed": Status.LOST,
        "Worker died": Status.LOST,
        "Just started": Status.PENDING,
        "Done long ago": Status.OK,
    }
    assert "no worker took it" in AsyncActionReport.objects.get(pk=stale_pending.pk).error_message
    assert fresh.pk


def test_reap_refuses_a_non_positive_age():
    with pytest.raises(CommandError, match="positive number of seconds"):
        call_command("async_actions_reap", "--older-than", "0")


def test_retry_action_links_a_new_report_to_the_finished_one():
    failed = AsyncActionReport.objects.create(action="Import", status=Status.FAILED)

    again = retry_action(failed, tasks.noop.s())

    assert again.pk != failed.pk
    assert (again.retry_of, again.action, again.status) == (failed, "Import", Status.PENDING)


def test_retry_action_refuses_an_unfinished_report():
    running = AsyncActionReport.objects.create(action="Import", status=Status.RUNNING)

    with pytest.raises(InvalidActionError, match="still running"):
        retry_action(running, tasks.noop.s())
    assert AsyncActionReport.objects.count() == 1
