"""Retention: finished reports leave in batches; active ones never do."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from async_actions import AsyncActionReport, Status
from async_actions.models import AsyncActionStep
from async_actions.retention import reports_purge
from async_actions.testing import wait_for


def _report(status, *, days_ago, steps=0):
    finished = timezone.now() - timedelta(days=days_ago)
    report = AsyncActionReport.objects.create(
        action=f"{status} {days_ago}d",
        status=status,
        finished_at=None if status in (Status.PENDING, Status.RUNNING) else finished,
        total_steps=max(steps, 1),
    )
    AsyncActionReport.objects.filter(pk=report.pk).update(created_at=finished)
    AsyncActionStep.objects.bulk_create(
        AsyncActionStep(report=report, task_id=f"{report.pk}-{i}", task_name="t", position=i)
        for i in range(steps)
    )
    return report


@pytest.mark.django_db
def test_purge_deletes_old_finished_reports_and_their_steps_in_batches(capsys):
    old = [_report(status, days_ago=40, steps=2) for status in (Status.OK, Status.FAILED)]
    old += [_report(s, days_ago=40) for s in (Status.CANCELLED, Status.LOST, Status.OK)]
    recent = _report(Status.OK, days_ago=5)
    active = [_report(s, days_ago=400) for s in (Status.PENDING, Status.RUNNING)]

    call_command("async_actions_purge", "--older-than", "30", "--batch-size", "2")

    remaining = set(AsyncActionReport.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, *(r.pk for r in active)}
    assert not AsyncActionStep.objects.filter(report_id__in=[r.pk for r in old]).exists()
    out, err = capsys.readouterr()
    assert "Deleted 5 finished report(s)" in out
    # One progress line per batch of 2: 2, 4, 5.
    assert [line.split("] ")[1] for line in err.splitlines()] == [
        "2/5 reports deleted",
        "4/5 reports deleted",
        "5/5 reports deleted",
    ]


@pytest.mark.django_db
def test_a_retry_of_a_purged_report_keeps_its_own_record():
    original = _report(Status.FAILED, days_ago=100)
    retry = _report(Status.OK, days_ago=1)
    AsyncActionReport.objects.filter(pk=retry.pk).update(retry_of=original)

    assert reports_purge(older_than=timedelta(days=30)) == 1

    retry.refresh_from_db()
    assert retry.retry_of is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--older-than", "-1"], "--older-than must be a number of days >= 0, got -1"),
        (["--older-than", "nan"], "--older-than must be a number of days >= 0, got nan"),
        (["--older-than", "3", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
        (["--older-than", "soon"], "invalid float value: 'soon'"),
        ([], "the following arguments are required: --older-than"),
    ],
)
def test_purge_refuses_bad_arguments_and_deletes_nothing(arguments, message):
    _report(Status.OK, days_ago=100)

    with pytest.raises(CommandError, match=message):
        call_command("async_actions_purge", *arguments)

    assert AsyncActionReport.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("async_actions_worker")
def test_the_beat_task_purges_on_a_worker():
    from async_actions.tasks import purge_reports

    old, recent = _report(Status.OK, days_ago=10), _report(Status.OK, days_ago=1)

    purge_reports.delay(older_than_days=7, batch_size=10)

    wait_for(lambda: not AsyncActionReport.objects.filter(pk=old.pk).exists(), what="the purge")
    assert AsyncActionReport.objects.filter(pk=recent.pk).exists()
