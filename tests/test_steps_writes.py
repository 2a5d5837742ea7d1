"""Batched step writes: the VALUES statement and the ORM fallback move steps the same way."""

import pytest
from django.utils import timezone

from async_actions import AsyncActionReport, AsyncActionStep, Status, StepStatus
from async_actions.steps import (
    _steps_mark_ok_orm,
    _steps_mark_running_orm,
    steps_mark_ok,
    steps_mark_running,
)

pytestmark = pytest.mark.django_db


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


def test_values_statement_moves_steps_and_completes_the_report(workflow):
    now = timezone.now()

    steps_mark_running(report_ids=[workflow.pk], started={"t0": (1, now), "t1": (2, now)})
    assert _state(workflow) == (Status.RUNNING, [("running", 1), ("running", 2)])

    steps_mark_ok(report_ids=[workflow.pk], finished={"t0": (1, now)})
    assert _state(workflow) == (Status.RUNNING, [("ok", 1), ("running", 2)])

    # A duplicated, older start changes nothing.
    steps_mark_running(report_ids=[workflow.pk], started={"t1": (1, now)})
    steps_mark_ok(report_ids=[workflow.pk], finished={"t1": (2, now)})
    assert _state(workflow) == (Status.OK, [("ok", 1), ("ok", 2)])
    assert AsyncActionStep.objects.get(task_id="t1").started_at == now


def test_orm_fallback_moves_steps_the_same_way(workflow):
    now = timezone.now()

    _steps_mark_running_orm({"t0": (1, now), "t1": (2, now)})
    _steps_mark_running_orm({"t1": (1, now)})
    _steps_mark_ok_orm({"t0": (1, now), "t1": (2, now)})

    assert _state(workflow)[1] == [(StepStatus.OK, 1), (StepStatus.OK, 2)]
    assert AsyncActionStep.objects.get(task_id="t0").finished_at == now
