"""Several worker processes, redelivered messages and connection reuse, on real workers."""

import pytest
from celery import chain
from django.conf import settings

from async_actions import AsyncActionReport, AsyncActionStep, Status, StepStatus, start_action
from async_actions.signals import action_started
from async_actions.signatures import (
    LEGACY_REPORT_ID_STAMP,
    LEGACY_STEP_STAMP,
    REPORT_ID_STAMP,
    STEP_STAMP,
)
from async_actions.testing import wait_for, wait_for_report
from tests.testapp import tasks
from tests.testapp.models import Marker

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("async_actions_worker"),
]


def test_two_workers_consuming_at_once_lose_and_double_count_nothing(async_actions_start_worker):
    second = async_actions_start_worker("second")
    reports = [start_action(f"Job {i}", tasks.create_marker.s(f"job-{i}", 0.02)) for i in range(80)]

    wait_for(
        lambda: not AsyncActionReport.objects.exclude(status=Status.OK).exists(),
        timeout=90,
        what="all 80 reports to be ok",
    )

    assert (
        AsyncActionReport.objects.filter(pk__in=[r.pk for r in reports], attempts=1).count() == 80
    )
    assert Marker.objects.count() == 80
    workers = set(Marker.objects.values_list("worker", flat=True))
    assert second.hostname in workers and len(workers) == 2


def test_a_redelivered_message_of_a_finished_action_changes_nothing():
    report = wait_for_report(start_action("Once", tasks.create_marker.s("once")))

    duplicate = tasks.create_marker.s("once").set(task_id=report.task_id)
    duplicate.stamp(**{REPORT_ID_STAMP: report.pk})
    duplicate.apply_async()
    wait_for(lambda: Marker.objects.filter(name="once").count() == 2, what="the duplicate to run")

    again = AsyncActionReport.objects.get(pk=report.pk)
    assert (again.status, again.attempts, again.finished_at) == (Status.OK, 1, report.finished_at)


def test_a_task_and_a_workflow_carry_one_stamp_each_naming_their_report():
    sent = {}

    def receiver(sender, report, signature, **kwargs):
        sent[report.pk] = signature

    action_started.connect(receiver)
    try:
        single = start_action("One", tasks.add.s(1, 2))
        workflow = start_action("Two", chain(tasks.add.s(1, 2), tasks.add.s(3)))
    finally:
        action_started.disconnect(receiver)

    def stamps(signature):  # what Celery sends as the message's stamps
        return {name: signature.options[name] for name in signature.options["stamped_headers"]}

    assert stamps(sent[single.pk]) == {REPORT_ID_STAMP: single.pk}
    assert [stamps(task) for task in sent[workflow.pk].tasks] == [{STEP_STAMP: workflow.pk}] * 2
    assert wait_for_report(single).status == Status.OK
    assert wait_for_report(workflow).status == Status.OK


def test_messages_stamped_by_an_earlier_version_are_still_tracked():
    """Messages still queued when the workers are upgraded carry the older, longer stamps."""
    single = AsyncActionReport.objects.create(action="Old single", status=Status.PENDING)
    sent = tasks.create_marker.s("old-single")
    sent.stamp(**{LEGACY_REPORT_ID_STAMP: single.pk})
    sent.apply_async()
    workflow = AsyncActionReport.objects.create(
        action="Old workflow", status=Status.PENDING, total_steps=2
    )
    steps = chain(tasks.create_marker.si("old-step-0"), tasks.create_marker.si("old-step-1"))
    steps.freeze()
    for position, task in enumerate(steps.tasks):
        AsyncActionStep.objects.create(
            report=workflow, task_id=task.id, task_name=task.task, position=position
        )
        task.stamp(**{LEGACY_REPORT_ID_STAMP: workflow.pk, LEGACY_STEP_STAMP: 1})
    steps.apply_async()

    assert wait_for_report(single).status == Status.OK
    assert wait_for_report(workflow).status == Status.OK
    assert set(
        AsyncActionStep.objects.filter(report=workflow).values_list("status", flat=True)
    ) == {StepStatus.OK}


def test_a_duplicate_that_runs_beside_the_first_counts_as_an_attempt(
    async_actions_start_worker, async_actions_queue
):
    """The task really started twice (a broker redelivery): `attempts` says so."""
    # A worker of its own: its second process is free for the duplicate at once (the
    # session's may still be busy with an earlier test's task).
    worker = async_actions_start_worker("beside", queue=f"{async_actions_queue}-beside")
    report = start_action("Slow", tasks.create_marker.s("slow", 1.0).set(queue=worker.queue))
    wait_for_report(report, statuses=[Status.RUNNING])

    duplicate = tasks.create_marker.s("slow", 0.0).set(task_id=report.task_id, queue=worker.queue)
    duplicate.stamp(**{REPORT_ID_STAMP: report.pk})
    duplicate.apply_async()

    report = wait_for_report(report)
    wait_for(lambda: Marker.objects.filter(name="slow").count() == 2, what="both copies to run")
    report.refresh_from_db()
    assert (report.status, report.attempts) == (Status.OK, 2)


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="connection identity is read from PostgreSQL's pg_backend_pid()",
)
def test_a_worker_process_keeps_its_database_connection_across_tracked_tasks():
    reports = [start_action(f"Conn {i}", tasks.record_db_connection.s("conn")) for i in range(20)]
    for report in reports:
        assert wait_for_report(report).status == Status.OK

    connections_per_process: dict[int, set[str]] = {}
    for marker in Marker.objects.all():
        connections_per_process.setdefault(marker.pid, set()).add(marker.name)
    assert connections_per_process
    assert all(len(names) == 1 for names in connections_per_process.values()), (
        connections_per_process
    )
