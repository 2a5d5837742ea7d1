"""start_actions: many actions in one transaction, each with its own report."""

import pytest
from celery import Celery, chain
from django.db import transaction

from async_actions import (
    ActionSpec,
    AsyncActionReport,
    AsyncActionStep,
    InvalidActionError,
    Status,
    start_actions,
)
from async_actions.testing import wait_for_report
from tests.testapp import tasks
from tests.testapp.models import Marker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("async_actions_worker")
def test_each_action_gets_its_own_report_and_runs_once():
    reports = start_actions(
        [
            ActionSpec("First", tasks.create_marker.s("bulk-1")),
            ActionSpec("Workflow", chain(tasks.noop.si(), tasks.create_marker.si("bulk-2"))),
            ActionSpec("Third", tasks.create_marker.s("bulk-3"), idempotency_key="bulk-3"),
        ]
    )

    assert [r.action for r in reports] == ["First", "Workflow", "Third"]
    assert len({r.pk for r in reports}) == 3
    assert AsyncActionStep.objects.filter(report=reports[1]).count() == 2
    for report in reports:
        assert wait_for_report(report).status == Status.OK
    names = sorted(Marker.objects.values_list("name", flat=True))
    assert names == ["bulk-1", "bulk-2", "bulk-3"]


@pytest.mark.usefixtures("async_actions_worker")
def test_a_used_idempotency_key_returns_the_existing_report_and_sends_nothing():
    (first,) = start_actions(
        [ActionSpec("Once", tasks.create_marker.s("once"), idempotency_key="k")]
    )
    again, other = start_actions(
        [
            ActionSpec("Once", tasks.create_marker.s("once"), idempotency_key="k"),
            ActionSpec("Other", tasks.create_marker.s("other")),
        ]
    )

    assert again.pk == first.pk
    assert wait_for_report(other).status == Status.OK
    assert wait_for_report(first).status == Status.OK
    assert Marker.objects.filter(name="once").count() == 1


def test_one_bad_item_rejects_the_whole_call_naming_it_and_records_nothing():
    with pytest.raises(InvalidActionError, match=r"item 1 \('Broken'\).*not registered"):
        start_actions(
            [
                ActionSpec("Fine", tasks.noop.s()),
                ActionSpec("Broken", tasks.noop.app.signature("no.such.task")),
            ]
        )

    assert not AsyncActionReport.objects.exists()


def test_a_key_used_twice_in_one_call_is_rejected():
    with pytest.raises(InvalidActionError, match=r"item 1 \('B'\).*also used by item 0"):
        start_actions(
            [
                ActionSpec("A", tasks.noop.s(), idempotency_key="same"),
                ActionSpec("B", tasks.noop.s(), idempotency_key="same"),
            ]
        )
    assert not AsyncActionReport.objects.exists()


def test_a_task_id_in_two_workflows_of_one_call_is_rejected():
    def workflow():
        return chain(tasks.noop.si().set(task_id="mine"), tasks.noop.si())

    with pytest.raises(
        InvalidActionError, match=r"item 1 \('B'\).*'mine' is also a task of item 0"
    ):
        start_actions([ActionSpec("A", workflow()), ActionSpec("B", workflow())])
    assert not AsyncActionReport.objects.exists() and not AsyncActionStep.objects.exists()


def test_items_must_be_action_specs():
    with pytest.raises(InvalidActionError, match="item 0 must be an ActionSpec, got tuple"):
        start_actions([("A", tasks.noop.s())])


def test_a_rollback_leaves_no_report():
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        start_actions([ActionSpec("Rolled back", tasks.noop.s())])
        raise Abort

    assert not AsyncActionReport.objects.exists()


def test_nothing_to_start_is_no_error():
    assert start_actions([]) == []


def test_an_unreachable_broker_keeps_every_report_of_the_call_unsent():
    """Not failed: the outbox keeps each message for async_actions_relay (test_outbox.py)."""
    dead = Celery("dead-bulk", broker="redis://127.0.0.1:1/0", set_as_current=False)

    @dead.task(name="dead.bulk_noop", shared=False)
    def dead_noop() -> None:
        return None

    reports = start_actions([ActionSpec(f"Unreachable {i}", dead_noop.s()) for i in range(2)])

    for report in reports:
        assert report.sent_at is None  # the returned objects say so
        report.refresh_from_db()
        assert report.status == Status.PENDING and report.sent_at is None
        assert "Connection refused" in report.send_error and report.outbox
