"""Workflows on a real worker: one report per canvas, every task a step, status from the whole."""

import pytest
from celery import chain, chord, group

from async_actions import AsyncActionStep, Status, StepStatus, start_action
from async_actions.selectors import report_progress
from async_actions.testing import wait_for, wait_for_report
from tests.testapp import tasks
from tests.testapp.models import StepTiming

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("async_actions_worker"),
]


def _steps(report):
    return list(
        AsyncActionStep.objects.filter(report=report).values_list(
            "position", "branch", "task_name", "status"
        )
    )


def _short(name):
    return name.rsplit(".", 1)[-1]


def test_a_chain_is_one_report_with_ordered_steps():
    canvas = chain(tasks.add.s(1, 2), tasks.add.s(3), tasks.add.s(4))
    report = start_action("Chain", canvas)

    # The caller's chain is left as it was: its tasks have no ids, it can be started again.
    assert [task.options for task in canvas.tasks] == [{}, {}, {}]
    report = wait_for_report(report)

    assert report.status == Status.OK and report.total_steps == 3
    assert [(p, b, _short(n), s) for p, b, n, s in _steps(report)] == [
        (0, "", "add", "ok"),
        (1, "", "add", "ok"),
        (2, "", "add", "ok"),
    ]
    steps = list(AsyncActionStep.objects.filter(report=report))
    assert all(step.attempts == 1 and step.started_at <= step.finished_at for step in steps)
    # finished_at is when the worker recorded the success, which Celery signals only after
    # it has sent the next step; the order of starts is what the chain guarantees.
    assert steps[0].started_at <= steps[1].started_at <= steps[2].started_at
    assert report_progress(report) == 1.0
    # The chain's result is its last task's; it began with its first.
    ordered = sorted(steps, key=lambda step: step.position)
    assert (report.root_task_id, report.task_id) == (ordered[0].task_id, ordered[-1].task_id)


def test_group_members_share_a_position_on_their_own_branches():
    report = wait_for_report(start_action("Group", group(tasks.add.s(i, i) for i in range(3))))

    assert report.status == Status.OK
    assert [(p, b, s) for p, b, _, s in _steps(report)] == [
        (0, "0", "ok"),
        (0, "1", "ok"),
        (0, "2", "ok"),
    ]


def test_a_nested_canvas_records_every_task():
    workflow = chain(
        tasks.timed.si("a"),
        group(tasks.timed.si("b1"), chain(tasks.timed.si("b2"), tasks.timed.si("b3"))),
        chord([tasks.add.si(1, 1), tasks.add.si(2, 2)], tasks.collect.s()),
        tasks.timed.si("z"),
    )

    report = wait_for_report(start_action("Nested", workflow), timeout=60)

    assert report.status == Status.OK
    assert [(p, b, _short(n)) for p, b, n, _ in _steps(report)] == [
        (0, "", "timed"),
        (1, "0", "timed"),
        (1, "1", "timed"),
        (2, "1", "timed"),
        (3, "0", "add"),
        (3, "1", "add"),
        (4, "", "collect"),
        (5, "", "timed"),
    ]
    assert {s for *_, s in _steps(report)} == {"ok"}


def test_a_middle_step_never_finishes_the_action():
    report = start_action("Slow end", chain(tasks.timed.si("fast"), tasks.timed.si("slow", 1.5)))

    wait_for_report(report, statuses=[Status.RUNNING])
    # Wait until the first step is recorded done, then look at the report.
    wait_for(
        lambda: AsyncActionStep.objects.filter(report=report, position=0, status="ok").exists(),
        what="the first step to finish",
    )
    report.refresh_from_db()
    assert report.status == Status.RUNNING
    assert report_progress(report) == 0.5
    assert wait_for_report(report).status == Status.OK


@pytest.mark.parametrize("failing_position", [0, 1, 2])
def test_a_failing_step_fails_the_action_naming_the_step(failing_position):
    signatures = [tasks.timed.si(f"s{i}") for i in range(3)]
    signatures[failing_position] = tasks.fail.si(f"step {failing_position} broke")

    report = wait_for_report(start_action("Failing chain", chain(*signatures)))

    assert report.status == Status.FAILED
    assert report.error_type == "ValueError"
    assert report.error_message.startswith(
        f"Failed at step {failing_position + 1} (tests.testapp.tasks.fail): "
    )
    assert "raise ValueError(message)" in report.error_traceback
    # Successes are written behind (TRACKING_FLUSH_INTERVAL), possibly by another worker
    # process than the failure: let the earlier steps' land.
    wait_for(
        lambda: (
            AsyncActionStep.objects.filter(report=report, status="ok").count() == failing_position
        ),
        what="the earlier steps to be recorded",
    )
    statuses = [s for *_, s in _steps(report)]
    assert statuses[failing_position] == StepStatus.FAILED
    assert statuses[:failing_position] == [StepStatus.OK] * failing_position
    assert statuses[failing_position + 1 :] == [StepStatus.PENDING] * (2 - failing_position)


def test_a_failing_chord_header_fails_the_action():
    workflow = chord([tasks.add.si(1, 1), tasks.fail.si("header broke")], tasks.collect.s())

    report = wait_for_report(start_action("Chord header", workflow))

    assert report.status == Status.FAILED
    assert "header broke" in report.error_message
    body = AsyncActionStep.objects.get(report=report, task_name="tests.testapp.tasks.collect")
    assert body.status == StepStatus.PENDING


def test_a_failing_chord_body_fails_the_action():
    workflow = chord([tasks.add.si(1, 1), tasks.add.si(2, 2)], tasks.fail.si("body broke"))

    report = wait_for_report(start_action("Chord body", workflow))

    assert report.status == Status.FAILED
    assert report.error_message == (
        "Failed at step 2 (tests.testapp.tasks.fail): ValueError: body broke"
    )
    header = AsyncActionStep.objects.filter(report=report, position=0)
    assert wait_for(lambda: header.filter(status=StepStatus.OK).count() == 2, what="the header")


def test_a_retried_step_is_recorded_and_the_workflow_goes_on():
    workflow = chain(
        tasks.timed.si("before"), tasks.flaky_step.si("middle"), tasks.timed.si("after")
    )

    report = wait_for_report(start_action("Retry inside", workflow))

    assert report.status == Status.OK
    middle = AsyncActionStep.objects.get(report=report, position=1)
    assert (middle.status, middle.attempts) == (StepStatus.OK, 2)
    assert "ConnectionError: middle flaked" in report.last_retry_error


def test_a_500_member_chord_loses_no_update():
    workflow = chord([tasks.add.si(i, 1) for i in range(500)], tasks.collect.s())

    report = wait_for_report(start_action("Wide", workflow), timeout=180)

    assert report.status == Status.OK
    assert report.total_steps == 501
    assert AsyncActionStep.objects.filter(report=report, status=StepStatus.OK).count() == 501
    assert AsyncActionStep.objects.filter(report=report, attempts=1).count() == 501


# -- the talk's race: a chain launched from inside a chain step ------------------------------


def _timing(name):
    return StepTiming.objects.get(name=name)


def test_naive_nested_chain_lets_the_outer_chain_run_ahead():
    """What NOT to do (tasks.inner_chain_naive): the wrong order is observable."""
    report = start_action("Naive", chain(tasks.inner_chain_naive.si(), tasks.timed.si("regular")))
    wait_for_report(report)
    wait_for(lambda: StepTiming.objects.filter(name="other").exists(), what="the inner chain")

    # The outer chain went on while the inner one was still running...
    assert _timing("regular").started_at < _timing("other").finished_at
    # ...and the report said "ok" before the work was done.
    assert report.__class__.objects.get(pk=report.pk).finished_at < _timing("other").finished_at


def test_chainable_keeps_the_order():
    report = start_action("Chainable", chain(*tasks.inner_chain(), tasks.timed.si("regular")))

    assert wait_for_report(report).status == Status.OK
    assert _timing("some").finished_at <= _timing("other").started_at
    assert _timing("other").finished_at <= _timing("regular").started_at
    assert report.total_steps == 3


def test_replace_keeps_the_order_and_tracks_the_new_steps():
    report = start_action(
        "Replaced", chain(tasks.inner_chain_replaced.si(), tasks.timed.si("regular"))
    )

    report = wait_for_report(report)

    assert report.status == Status.OK
    assert _timing("other").finished_at <= _timing("regular").started_at
    assert [(p, s) for p, _, _, s in _steps(report)] == [(0, "ok"), (1, "ok"), (2, "ok")]
    assert [_short(n) for *_, n, _ in _steps(report)] == ["timed", "timed", "timed"]
    assert report.finished_at >= _timing("regular").finished_at


def test_replace_with_a_group_in_a_single_task_action():
    report = wait_for_report(start_action("Fan out", tasks.fan_out_replaced.s(3)))

    assert report.status == Status.OK
    assert StepTiming.objects.filter(name__startswith="member-").count() == 3
    assert report.finished_at >= max(t.finished_at for t in StepTiming.objects.all())


def test_replace_with_something_not_a_signature_fails_clearly_and_adds_no_step():
    report = wait_for_report(
        start_action("Bad replace", chain(tasks.replace_with_garbage.si(), tasks.noop.si()))
    )

    assert report.status == Status.FAILED
    assert report.error_type == "InvalidActionError"
    assert "replace_with() needs a Celery signature or canvas" in report.error_message
    assert AsyncActionStep.objects.filter(report=report).count() == 2


def test_replace_in_a_parallel_branch_moves_only_what_follows_it():
    workflow = chain(
        group(
            tasks.inner_chain_replaced.si(),
            chain(tasks.timed.si("b1"), tasks.timed.si("b2")),
        ),
        tasks.timed.si("after"),
    )

    report = wait_for_report(start_action("Replace in a group", workflow), timeout=60)

    assert report.status == Status.OK
    names = {timing.name: timing for timing in StepTiming.objects.all()}
    assert names["other"].finished_at <= names["after"].started_at
    rows = AsyncActionStep.objects.filter(report=report)
    assert [(s.position, s.branch, s.status, s.attempts) for s in rows] == [
        (0, "0", "ok", 1),  # some
        (0, "1", "ok", 1),  # b1
        (1, "0", "ok", 1),  # other: the replaced task's row, handed to the new last task
        (1, "1", "ok", 1),  # b2
        (3, "", "ok", 1),  # after: moved down by one, keeping its place after the group
    ]
    other = rows.get(position=1, branch="0")
    some = rows.get(position=0, branch="0")
    assert other.started_at >= some.started_at
