"""Every move from every state, in both of the tracker's forms, driven by the move table.

Runs on whichever database the backend set uses (SQLite by default, PostgreSQL with
AA_DATABASE=postgres).
"""

import pytest
from django.utils import timezone

from async_actions.models import AsyncActionReport, AsyncActionStep
from async_actions.moves import ALL_MOVES, REPORT_MOVES, Move
from async_actions.spill import replay_success
from async_actions.tracker import Tracker

pytestmark = pytest.mark.django_db

STORED_ATTEMPTS = 2


class OneRowAtATime(Tracker):
    """What the tracker does on a database without UPDATE ... FROM (VALUES ...) or RETURNING."""

    can_update_from_values = False  # type: ignore[assignment]
    can_return_rows = False  # type: ignore[assignment]


def _cases():
    for move in ALL_MOVES:
        for state in move.states.values:
            yield pytest.param(move, state, id=f"{move.name}-from-{state}")


def _row(move: Move, state: str):
    if move.model is AsyncActionReport:
        report = AsyncActionReport.objects.create(
            action="Move", status=state, attempts=STORED_ATTEMPTS
        )
        return report, report.pk
    report = AsyncActionReport.objects.create(action="Workflow", total_steps=1)
    step = AsyncActionStep.objects.create(
        report=report,
        task_id=f"task-{state}",
        task_name="t",
        position=0,
        status=state,
        attempts=STORED_ATTEMPTS,
    )
    return step, step.task_id


def _values(move: Move) -> dict:
    now = timezone.now()
    # A start is of the next attempt; a retry or a success of the stored one.
    attempt = STORED_ATTEMPTS + 1 if move.name.endswith("start") else STORED_ATTEMPTS
    known = {"attempt": attempt, "at": now, "started": now, "redelivered": False, "not_before": now}
    return {name: known.get(name, f"{name} of {move.name}") for name in move.values}


@pytest.mark.parametrize("form", ["at-once", "batched", "one-row-database"])
@pytest.mark.parametrize(("move", "state"), list(_cases()))
def test_a_move_leaves_exactly_the_states_it_names(move, state, form):
    row, key = _row(move, state)
    values = _values(move)

    if form == "at-once":
        moved = Tracker().apply(move, key, **values)
    else:
        tracker = Tracker() if form == "batched" else OneRowAtATime()
        moved = tracker.apply_many(move, [{"key": key, **values}]) == [key]

    row.refresh_from_db()
    assert moved == (state in move.leaves or state in move.also)
    if not moved or state in move.also:  # `also`: takes the values, keeps its state
        assert row.status == state
    elif "CASE" in move.sets["status"]:  # moves only the latest attempt, or from running
        assert row.status in (move.to, state)
    else:
        assert row.status == move.to


@pytest.mark.parametrize("form", ["at-once", "batched"])
def test_a_success_names_the_worker_that_ran_it_and_one_naming_none_keeps_it(form):
    """A start merged into its success is written by the success alone: it names the worker.
    An event naming no worker (an older replayed message) is no rerun and keeps the worker."""
    merged = AsyncActionReport.objects.create(action="Merged")
    started = AsyncActionReport.objects.create(
        action="Started", status="running", attempts=1, worker="host:1"
    )
    now = timezone.now()

    def succeed(report, worker):
        values = {"attempt": 1, "started": now, "at": now, "worker": worker}
        if form == "at-once":
            Tracker().apply(REPORT_MOVES["succeed"], report.pk, **values)
        else:
            Tracker().apply_many(REPORT_MOVES["succeed"], [{"key": report.pk, **values}])
        report.refresh_from_db()
        return report.status, report.attempts, report.worker

    assert succeed(merged, "host:2") == ("ok", 1, "host:2")
    assert succeed(started, "") == ("ok", 1, "host:1")


def test_a_replayed_success_is_no_rerun_of_the_worker_that_ran_it():
    """Any worker may write a success kept in the broker (spill.py): the one that ran it
    is named in the message, so the attempt is not counted twice."""
    report = AsyncActionReport.objects.create(
        action="Spilled", status="running", attempts=1, worker="host:1"
    )
    at = timezone.now().isoformat()

    assert replay_success(report_id=report.pk, task_id=None, attempt=1, at=at, worker="host:1")

    report.refresh_from_db()
    assert (report.status, report.attempts, report.worker) == ("ok", 1, "host:1")


@pytest.mark.parametrize("form", ["batched", "one-row-database"])
@pytest.mark.parametrize(
    ("step_states", "completes"),
    [(["ok", "ok"], True), (["ok", "running"], False), (["ok", "pending"], False)],
)
def test_a_workflow_completes_only_when_every_step_is_done(form, step_states, completes):
    report = AsyncActionReport.objects.create(
        action="Workflow", status="running", total_steps=len(step_states)
    )
    for position, state in enumerate(step_states):
        AsyncActionStep.objects.create(
            report=report,
            task_id=f"step-{position}",
            task_name="t",
            position=position,
            status=state,
        )
    tracker = Tracker() if form == "batched" else OneRowAtATime()

    moved = tracker.complete_workflows(report_ids=[report.pk]) == 1

    report.refresh_from_db()
    assert moved == completes
    assert report.status == ("ok" if completes else "running")
