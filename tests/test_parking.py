"""Unfinished reports are found without an index on status: above the mark, or parked."""

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from async_actions import AsyncActionReport, Status
from async_actions.migrations import __name__ as migrations_package
from async_actions.models import AsyncActionReapMark, AsyncActionWorker
from async_actions.moves import REPORT_MOVES, WORKFLOW_MOVES, Move
from async_actions.parking import FINDABLE_STATUSES, having_status, park, unfinished_reports
from async_actions.reaping import reports_reap
from async_actions.selectors import report_list
from async_actions.tracker import Tracker

pytestmark = pytest.mark.django_db

FINDABLE = set(FINDABLE_STATUSES)
assert FINDABLE == {*Status.values} - {Status.OK, Status.FAILED, Status.CANCELLED}


def _ago(**delta):
    return timezone.now() - timedelta(**delta)


def _mark():
    return AsyncActionReapMark.objects.get().parked_before


def _running(worker: str) -> AsyncActionReport:
    return AsyncActionReport.objects.create(
        action="Long task", status=Status.RUNNING, worker=worker, started_at=_ago(minutes=5)
    )


def _beat(name: str, *, last_seen) -> None:
    AsyncActionWorker.objects.update_or_create(
        name=name,
        defaults={"hostname": "h", "pid": 1, "started_at": _ago(days=1), "last_seen": last_seen},
    )


def test_a_long_running_report_is_parked_before_the_mark_passes_it_and_is_still_reaped(
    settings,
):
    settings.ASYNC_ACTIONS = {"PARK_AFTER": 1}
    _beat("h:1", last_seen=timezone.now())
    report = _running("h:1")
    finished = AsyncActionReport.objects.create(action="Done", status=Status.OK)

    assert reports_reap().total == 0  # the worker beats
    time.sleep(1.2)
    _beat("h:1", last_seen=timezone.now())
    assert reports_reap().total == 0

    report.refresh_from_db()
    assert _mark() > report.created_at
    assert report.not_before == report.created_at  # parked
    assert AsyncActionReport.objects.get(pk=finished.pk).not_before is None
    # The worker dies: the report is older than the mark, and found all the same.
    _beat("h:1", last_seen=_ago(hours=1))
    assert reports_reap().silent_worker == 1
    assert AsyncActionReport.objects.get(pk=report.pk).status == Status.LOST


def test_the_dashboard_finds_unfinished_and_lost_reports_behind_the_mark(settings):
    settings.ASYNC_ACTIONS = {"PARK_AFTER": 60}
    old_running = _running("h:1")
    old_lost = AsyncActionReport.objects.create(action="Gone", status=Status.RUNNING)
    AsyncActionReport.objects.filter(pk__in=[old_running.pk, old_lost.pk]).update(
        created_at=_ago(hours=2)
    )
    Tracker().apply(REPORT_MOVES["lose"], old_lost.pk, at=timezone.now(), reason="gone")
    old_running.refresh_from_db()
    park()  # parks the old running report; the lost one stays findable by itself
    recent = _running("h:2")

    assert _mark() > old_running.created_at
    assert set(report_list(status=Status.RUNNING)) == {old_running, recent}
    assert list(report_list(status=Status.LOST)) == [old_lost]
    # Never parked, and older than the mark: invisible to the unfinished-report search.
    stray = AsyncActionReport.objects.create(action="Committed late", status=Status.RUNNING)
    AsyncActionReport.objects.filter(pk=stray.pk).update(created_at=_ago(hours=3))
    assert not AsyncActionReport.objects.filter(unfinished_reports(), pk=stray.pk).exists()
    assert AsyncActionReport.objects.filter(having_status(Status.OK)).count() == 0


def test_the_mark_only_moves_forward(settings):
    settings.ASYNC_ACTIONS = {"PARK_AFTER": 60}
    park()
    first = _mark()
    park(now=_ago(hours=1))
    assert _mark() == first
    # A future `now` (a test's clock) does not move the mark past the present.
    park(now=timezone.now() + timedelta(days=1))
    assert _mark() <= timezone.now() - timedelta(seconds=60)


def _report_moves():
    for move in (*REPORT_MOVES.values(), *WORKFLOW_MOVES.values()):
        for state in (*move.leaves, *move.also):
            yield pytest.param(move, state, id=f"{move.name}-from-{state}")


@pytest.mark.parametrize("batched", [False, True], ids=["at-once", "batched"])
@pytest.mark.parametrize(("move", "state"), list(_report_moves()))
def test_only_a_real_outcome_takes_a_report_out_of_the_parked_ones(move: Move, state, batched):
    # As the reaper leaves it: every report that may still move is parked.
    parked = _ago(hours=2) if state in FINDABLE else None
    report = AsyncActionReport.objects.create(
        action="Move", status=state, attempts=2, not_before=parked
    )
    now = timezone.now()
    known = {"attempt": 2, "at": now, "started": now, "redelivered": False, "not_before": now}
    values = {name: known.get(name, f"{name} of {move.name}") for name in move.values}

    if batched:
        Tracker().apply_many(move, [{"key": report.pk, **values}])
    else:
        Tracker().apply(move, report.pk, **values)

    report.refresh_from_db()
    assert (report.not_before is not None) == (report.status in FINDABLE), report.status


def test_a_lost_report_joins_the_parked_ones():
    report = AsyncActionReport.objects.create(action="Never parked", status=Status.RUNNING)

    Tracker().apply(REPORT_MOVES["lose"], report.pk, at=timezone.now(), reason="gone")

    report.refresh_from_db()
    assert report.not_before == report.created_at


def test_the_migration_leaves_parked_only_what_may_still_move():
    done = AsyncActionReport.objects.create(
        action="Done", status=Status.OK, not_before=_ago(days=1)
    )
    lost = AsyncActionReport.objects.create(action="Lost", status=Status.LOST)
    waiting = AsyncActionReport.objects.create(action="Countdown", not_before=_ago(minutes=1))
    migration = __import__(f"{migrations_package}.0010_park_unfinished", fromlist=["_"])

    migration.keep_findable_only_what_may_move(apps, SimpleNamespace(connection=connection))

    values = dict(AsyncActionReport.objects.values_list("pk", "not_before"))
    assert values[done.pk] is None
    assert values[lost.pk] == lost.created_at
    assert values[waiting.pk] == waiting.not_before
