"""django.tasks (DEP 14) on the CeleryBackend: Django's own task expectations, on a real worker.

The tasks are in tests/testapp/dtasks.py, the backends in settings.TASKS.
"""

import asyncio
import dataclasses
import json
import pickle
import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from async_actions import AsyncActionReport, Origin, Status, retry_action, start_action
from async_actions.django_tasks import CeleryBackend, TaskArgumentsError, enqueue_as
from async_actions.django_tasks._compat import (
    SOURCE,
    InvalidTask,
    TaskResultDoesNotExist,
    TaskResultMismatch,
    TaskResultStatus,
    task_backends,
    task_enqueued,
)
from async_actions.django_tasks.options import broker_kind, celery_priority
from async_actions.django_tasks.results import STATUS_MAP
from async_actions.errors import ActionCancelled, ActionLost, TaskReturnValueError
from async_actions.tasks import RUN_DJANGO_TASK
from async_actions.testing import wait_for, wait_for_report
from async_actions.tracker import get_tracker
from tests.celery_app import app
from tests.testapp import dtasks, tasks
from tests.testapp.models import Marker, SignalRecord

pytestmark = pytest.mark.django_db(transaction=True)
worker = pytest.mark.usefixtures("async_actions_worker")


@pytest.fixture(autouse=True)
def _close_the_async_orms_connection():
    """The async ORM (aget_result, aenqueue) queries from one thread of asgiref's, which
    outlives the test. Close its connection after each test, as Django's ASGI handler does
    after each request: left open, it stops the test database from being dropped."""
    yield
    asyncio.run(sync_to_async(connections.close_all)())


def finished(result):
    """Wait for the run behind `result` to finish; return it refreshed."""
    wait_for_report(int(result.id))
    result.refresh()
    return result


# -- enqueue and get_result ---------------------------------------------------------------


@worker
def test_enqueue_records_a_report_and_get_result_reads_it(async_actions_worker):
    result = dtasks.add.enqueue(2, 3)

    assert result.status == TaskResultStatus.READY
    report = AsyncActionReport.objects.get(pk=int(result.id))
    assert (report.action, report.task_name) == ("add", RUN_DJANGO_TASK)
    assert report.signature["args"] == [dtasks.add.module_path, [2, 3], {}]

    finished(result)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    assert result.errors == []
    assert result.worker_ids == [async_actions_worker.hostname] and result.attempts == 1
    assert result.enqueued_at <= result.started_at <= result.finished_at
    assert result.last_attempted_at >= result.started_at

    again = dtasks.add.get_result(result.id)
    assert (again.id, again.return_value, again.args) == (result.id, 5, [2, 3])
    again_async = asyncio.run(dtasks.add.aget_result(result.id))
    assert again_async.status == TaskResultStatus.SUCCESSFUL


@worker
def test_enqueue_writes_the_report_only():
    with CaptureQueriesContext(connection) as queries:
        result = dtasks.add.enqueue(4, 4)

    # start_action's one INSERT: the call is read back from the stored signature.
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["INSERT"]
    assert finished(result).return_value == 8


@worker
def test_a_run_started_again_from_its_report_is_a_result_with_the_same_call():
    first = finished(dtasks.add.using(priority=0, queue_name="default").enqueue(6, 1))
    again = retry_action(AsyncActionReport.objects.get(pk=first.id))

    result = finished(dtasks.add.get_result(str(again.pk)))
    assert (result.args, result.kwargs, result.return_value) == ([6, 1], {}, 7)
    assert (result.task.queue_name, result.task.priority, result.backend) == (
        "default",
        0,
        "default",
    )


def test_get_result_and_refresh_give_the_enqueued_result_back_before_it_runs():
    class Abort(Exception):
        pass

    # Inside a transaction that rolls back: read before any worker could take it, sent never.
    with pytest.raises(Abort), transaction.atomic():
        result = dtasks.echo.enqueue(1, two=3)
        read = dtasks.echo.get_result(result.id)
        fields = dataclasses.asdict(result)
        result.refresh()
        assert dataclasses.asdict(result) == fields
        raise Abort

    assert read == result and dataclasses.asdict(read) == fields
    assert (read.task, read.args, read.kwargs) == (dtasks.echo, [1], {"two": 3})
    assert (read.status, read.started_at, read.finished_at) == (TaskResultStatus.READY, None, None)
    if SOURCE == "django.tasks":  # Django 6's Task pickles by its path; the backport's does not
        assert pickle.loads(pickle.dumps(read)) == read
    assert not AsyncActionReport.objects.exists()


@worker
def test_get_result_through_another_task_is_a_mismatch():
    result = finished(dtasks.add.enqueue(1, 1))

    with pytest.raises(TaskResultMismatch, match="Task does not match"):
        dtasks.echo.get_result(result.id)
    with pytest.raises(TaskResultMismatch, match="Task does not match"):
        asyncio.run(dtasks.echo.aget_result(result.id))


def test_enqueue_and_aenqueue_validate_the_queue_again():
    # using() validates too; a Task changed past it is still refused when enqueued.
    elsewhere = dtasks.add.using()
    object.__setattr__(elsewhere, "queue_name", "nope")

    with pytest.raises(InvalidTask, match="Queue 'nope' is not valid"):
        elsewhere.enqueue(1, 2)
    with pytest.raises(InvalidTask, match="Queue 'nope' is not valid"):
        asyncio.run(elsewhere.aenqueue(1, 2))
    with pytest.raises(TypeError, match="must be JSON"):
        asyncio.run(dtasks.echo.aenqueue(object()))
    assert not AsyncActionReport.objects.exists()


@worker
def test_arguments_come_back_as_json_gives_them():
    result = finished(dtasks.echo.enqueue(1, ("a", "b"), flag=True, nested={"k": [None, 1.5]}))

    assert result.return_value == {
        "args": [1, ["a", "b"]],
        "kwargs": {"flag": True, "nested": {"k": [None, 1.5]}},
    }


@worker
def test_an_async_task_function_runs():
    assert finished(dtasks.async_add.enqueue(20, 22)).return_value == 42


@worker
def test_the_action_name_is_the_task_name_unless_given():
    by_option = finished(dtasks.named.enqueue())
    user = User.objects.create_user("ana")
    with enqueue_as(action="Add for Ana", triggered_by=user):
        by_context = finished(dtasks.add.enqueue(1, 1))

    assert AsyncActionReport.objects.get(pk=by_option.id).action == "Named by the backend"
    report = AsyncActionReport.objects.get(pk=by_context.id)
    assert (report.action, report.triggered_by, report.origin) == ("Add for Ana", user, Origin.USER)


@worker
def test_an_idempotency_key_returns_the_first_result_and_runs_once():
    with enqueue_as(idempotency_key="marker-once"):
        first = dtasks.create_marker.enqueue("once")
        second = dtasks.create_marker.enqueue("once")

    assert second.id == first.id
    finished(first)
    with enqueue_as(idempotency_key="marker-once"):
        third = dtasks.create_marker.enqueue("once")
    assert (third.id, third.status) == (first.id, TaskResultStatus.SUCCESSFUL)
    start_action("Celery", tasks.noop.s(), idempotency_key="celery-key")
    with (
        pytest.raises(InvalidTask, match="not a django.tasks run"),
        enqueue_as(idempotency_key="celery-key"),
    ):
        dtasks.create_marker.enqueue("never")
    finished(dtasks.add.enqueue(0, 0))  # a later run on the same queue is done
    assert Marker.objects.filter(name="once").count() == 1


@worker
def test_get_result_of_an_unknown_id_does_not_exist():
    plain = start_action("Not a django task", tasks.noop.s())

    for result_id in ["999999", "not-a-number", str(plain.pk)]:
        with pytest.raises(TaskResultDoesNotExist):
            dtasks.add.get_result(result_id)
    with pytest.raises(TaskResultDoesNotExist):
        asyncio.run(task_backends["default"].aget_result("999999"))
    # A result of the default backend is not one of the "retrying" backend.
    done = finished(dtasks.add.enqueue(1, 2))
    with pytest.raises(TaskResultDoesNotExist, match="belongs to task backend 'default'"):
        task_backends["retrying"].get_result(done.id)


# -- rollback -----------------------------------------------------------------------------


@worker
def test_a_rollback_enqueues_nothing_and_leaves_no_report():
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        rolled_back = dtasks.create_marker.enqueue("rolled-back")
        raise Abort

    later = finished(dtasks.create_marker.enqueue("later"))
    assert later.status == TaskResultStatus.SUCCESSFUL
    assert not Marker.objects.filter(name="rolled-back").exists()
    signatures = AsyncActionReport.objects.values_list("signature", flat=True)
    assert [signature["args"][1] for signature in signatures] == [["later"]]
    # SQLite hands a rolled-back id out again (PostgreSQL does not): the id may now be later's.
    if rolled_back.id != later.id:
        with pytest.raises(TaskResultDoesNotExist):
            dtasks.create_marker.get_result(rolled_back.id)


@worker
def test_the_task_runs_only_after_the_callers_transaction_commits():
    with transaction.atomic():
        result = dtasks.create_marker.enqueue("after-commit")
        assert not Marker.objects.filter(name="after-commit").exists()

    assert finished(result).return_value == Marker.objects.get(name="after-commit").pk


# -- failure ------------------------------------------------------------------------------


@worker
def test_a_failure_gives_the_exception_class_path_and_traceback():
    result = finished(dtasks.fail.enqueue("bad input"))

    assert result.status == TaskResultStatus.FAILED
    [error] = result.errors
    assert error.exception_class_path == "builtins.ValueError"
    assert error.exception_class is ValueError
    assert "dtasks.py" in error.traceback
    assert error.traceback.endswith("ValueError: bad input\n")  # as Django's own backends end it
    assert result.started_at <= result.finished_at and result.last_attempted_at
    with pytest.raises(ValueError, match="Task failed"):
        result.return_value  # noqa: B018


@worker
def test_secrets_are_cleansed_from_the_traceback():
    result = finished(dtasks.leak_secret.enqueue())

    [error] = result.errors
    assert error.exception_class_path == "builtins.PermissionError"
    assert settings.INVOICES_PLUS_API_KEY not in error.traceback
    assert "api_key=********" in error.traceback


@worker
def test_a_return_value_past_the_cap_fails_the_run_with_a_clear_error():
    with override_settings(ASYNC_ACTIONS={"TASK_RETURN_VALUE_MAX_BYTES": 1000}):
        small = finished(dtasks.returns.enqueue(10))
    # The worker has the default cap (64 KiB): past it, the run fails.
    large = finished(dtasks.returns.enqueue(70_000))
    not_json = finished(dtasks.returns_object.enqueue())

    assert small.return_value == "x" * 10
    for result, words in [(large, "the limit is 65536"), (not_json, "not JSON")]:
        assert result.status == TaskResultStatus.FAILED
        [error] = result.errors
        assert error.exception_class is TaskReturnValueError
        assert words in error.traceback
    assert AsyncActionReport.objects.get(pk=large.id).return_value is None


def test_arguments_that_do_not_round_trip_through_json_are_refused_at_enqueue():
    with pytest.raises(TaskArgumentsError, match="must be JSON"):
        dtasks.echo.enqueue(object())
    with pytest.raises(TypeError, match="dict keys must be strings"):
        dtasks.echo.enqueue({1: "one"})
    with pytest.raises(InvalidTask, match="must be JSON"):
        dtasks.echo.enqueue(when=timezone.now())

    assert not AsyncActionReport.objects.exists()


# -- retry and context --------------------------------------------------------------------


@worker
def test_a_retried_run_counts_its_attempts(async_actions_worker):
    result = finished(dtasks.flaky.enqueue(2))

    assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
    assert result.return_value == 3
    assert result.attempts == 3
    assert result.worker_ids == [async_actions_worker.hostname] * 3
    assert result.last_attempted_at > result.started_at
    # The retry of attempt 2 is written as its process handles it; under load attempt 3 may
    # have run on the other process and succeeded first. The later error wins either way.
    wait_for(
        lambda: "attempt 2 failed" in AsyncActionReport.objects.get(pk=result.id).last_retry_error,
        what="the retry of attempt 2 to be recorded",
    )
    assert AsyncActionReport.objects.get(pk=result.id).attempts == 3


@worker
def test_a_run_that_fails_past_its_retries_is_failed():
    result = finished(dtasks.flaky.enqueue(5))

    assert result.status == TaskResultStatus.FAILED
    assert result.attempts == 3, result.errors  # max_retries=2
    assert result.errors[0].exception_class is ConnectionError


@worker
def test_takes_context_gives_the_attempt_and_the_result():
    result = finished(dtasks.with_context.enqueue("hi"))

    assert result.return_value == {
        "attempt": 1,
        "id": result.id,
        "status": str(TaskResultStatus.RUNNING),
        "note": "hi",
    }


# -- DEP 14's signals ----------------------------------------------------------------------


@worker
def test_task_enqueued_is_sent_with_the_result_once_enqueued():
    seen = []

    def receiver(sender, task_result, **kwargs):
        seen.append((sender, task_result.id, task_result.status, task_result.args))

    task_enqueued.connect(receiver)
    try:
        result = dtasks.add.enqueue(1, 2)
    finally:
        task_enqueued.disconnect(receiver)

    assert seen == [(CeleryBackend, result.id, TaskResultStatus.READY, [1, 2])]
    finished(result)


def _signal_rows(result):
    rows = SignalRecord.objects.filter(report_id=int(result.id), kind__startswith="task_")
    return [(row.kind, row.status, json.loads(row.error)) for row in rows.order_by("pk")]


@worker
def test_task_started_and_task_finished_are_sent_on_the_worker(async_actions_worker):
    result = finished(dtasks.add.enqueue(2, 5))

    (started_kind, started_status, started), (finished_kind, finished_status, done) = (
        _signal_rows(result)
    )
    assert (started_kind, started_status) == ("task_started", TaskResultStatus.RUNNING)
    assert (finished_kind, finished_status) == ("task_finished", TaskResultStatus.SUCCESSFUL)
    for sent in (started, done):
        assert sent["sender"] == "CeleryBackend"
        assert (sent["task"], sent["args"], sent["kwargs"]) == (dtasks.add.module_path, [2, 5], {})
        assert sent["backend"] == "default"
        assert sent["worker_ids"] == [async_actions_worker.hostname]
        assert sent["started"] and sent["exc_info"] is None
    assert not started["finished"] and done["finished"]
    assert (started["return_value"], done["return_value"], done["errors"]) == (None, 7, [])


@worker
def test_task_finished_of_a_failure_carries_the_error_inside_the_handler():
    result = finished(dtasks.fail.enqueue("boom"))

    assert [(kind, status) for kind, status, _ in _signal_rows(result)] == [
        ("task_started", TaskResultStatus.RUNNING),
        ("task_finished", TaskResultStatus.FAILED),
    ]
    done = _signal_rows(result)[1][2]
    assert done["errors"] == ["builtins.ValueError"]
    assert done["exc_info"] == "ValueError"  # sent while the exception is being handled


@worker
def test_a_retried_attempt_starts_again_and_finishes_once():
    result = finished(dtasks.flaky.enqueue(1))

    kinds = [(kind, status) for kind, status, _ in _signal_rows(result)]
    assert kinds == [
        ("task_started", TaskResultStatus.RUNNING),
        ("task_started", TaskResultStatus.RUNNING),
        ("task_finished", TaskResultStatus.SUCCESSFUL),
    ]


# -- defer, priority, queues --------------------------------------------------------------


@worker
def test_run_after_defers_the_run():
    run_after = timezone.now() + timedelta(seconds=2)
    result = finished(dtasks.add.using(run_after=run_after).enqueue(1, 1))

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.started_at >= run_after
    assert dtasks.add.get_result(result.id).task.run_after == run_after


def test_a_naive_run_after_is_refused():
    with pytest.raises(InvalidTask, match="aware datetime"):
        dtasks.add.using(run_after=timezone.now().replace(tzinfo=None))


def test_a_queue_not_in_queues_is_refused():
    with pytest.raises(InvalidTask, match="Queue 'nope' is not valid"):
        dtasks.add.using(queue_name="nope")


@worker
def test_queue_name_routes_to_that_celery_queue(async_actions_start_worker):
    other = async_actions_start_worker("other-queue", queue=settings.DJANGO_TASKS_OTHER_QUEUE)

    result = finished(dtasks.delivery.using(queue_name=settings.DJANGO_TASKS_OTHER_QUEUE).enqueue())

    assert result.worker_ids == [other.hostname]
    assert result.return_value["routing_key"] == settings.DJANGO_TASKS_OTHER_QUEUE
    assert result.task.queue_name == settings.DJANGO_TASKS_OTHER_QUEUE


@pytest.mark.skipif(
    broker_kind(app) in ("redis", "amqp"), reason="a broker that orders by priority"
)
def test_priority_is_refused_on_a_broker_without_priorities():
    backend = task_backends["default"]

    assert not backend.supports_priority
    with pytest.raises(InvalidTask, match="does not order messages by priority"):
        dtasks.add.using(priority=10)


@worker
@pytest.mark.skipif(
    broker_kind(app) not in ("redis", "amqp"), reason="needs a broker that orders by priority"
)
def test_priority_reaches_the_celery_message():
    assert task_backends["default"].supports_priority

    result = finished(dtasks.delivery.using(priority=100).enqueue())

    assert result.task.priority == 100
    assert result.return_value["priority"] == celery_priority(100, app)


def test_priority_maps_to_celerys_order_for_each_broker():
    # DEP 14: higher runs first. RabbitMQ: higher runs first; kombu's Redis: 0 runs first.
    assert [celery_priority(p, _App("amqp://x")) for p in (-100, -1, 0, 100)] == [0, 4, 4, 9]
    assert [celery_priority(p, _App("redis://x")) for p in (-100, -1, 0, 100)] == [9, 5, 5, 0]


class _App:
    """Just what broker_kind reads of a Celery app."""

    def __init__(self, url):
        self.conf = type("Conf", (), {"broker_url": url})()


# -- statuses we have and DEP 14 has not --------------------------------------------------


def test_every_status_has_a_dep14_status():
    assert set(STATUS_MAP) == set(Status.values)
    assert set(STATUS_MAP.values()) <= set(TaskResultStatus)


@worker
def test_a_cancelled_run_is_failed_with_an_action_cancelled_error():
    result = dtasks.add.using(run_after=timezone.now() + timedelta(seconds=30)).enqueue(1, 2)
    # What a worker records when it skips or stops a cancelled action's task.
    assert get_tracker().cancel(report_id=int(result.id), reason="Not needed.")

    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    [error] = result.errors
    assert (error.exception_class, error.traceback) == (ActionCancelled, "Not needed.")


def test_a_lost_run_is_failed_with_an_action_lost_error():
    # Due in an hour: a session worker started by other tests holds it, unrun.
    result = dtasks.add.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(1, 2)
    # Lost only LOST_AFTER past the time it could run (its run_after), not its creation.
    call_command("async_actions_reap", "--older-than", "3600")
    result.refresh()
    assert result.status == TaskResultStatus.READY
    AsyncActionReport.objects.filter(pk=result.id).update(
        created_at=timezone.now() - timedelta(hours=3),
        not_before=timezone.now() - timedelta(hours=2),
    )
    call_command("async_actions_reap", "--older-than", "3600")

    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class is ActionLost
    assert "never started" in result.errors[0].traceback


def test_a_run_whose_worker_took_it_is_running_before_the_tracker_says_so():
    result = dtasks.add.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(1, 2)
    # What the worker's first act writes, before the tracker's (buffered) start.
    AsyncActionReport.objects.filter(pk=result.id).update(worker_ids=["w1"])

    result.refresh()
    assert result.status == TaskResultStatus.RUNNING and result.attempts == 1


# -- capabilities and checks --------------------------------------------------------------


def test_capability_flags():
    backend = task_backends["default"]

    assert backend.supports_defer and backend.supports_async_task and backend.supports_get_result
    assert backend.supports_priority == (broker_kind(app) in ("redis", "amqp"))


def test_system_checks_pass_for_the_configured_backends(capsys):
    call_command("check")

    assert "no issues" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("options", "queues", "check_id"),
    [
        ({"colour": "blue"}, ["default"], "async_actions.E101"),
        ({"actions": {"a.b": ""}}, ["default"], "async_actions.E102"),
        ({"max_retries": -1}, ["default"], "async_actions.E103"),
        ({"retry_on": ["no.such.Error"]}, ["default"], "async_actions.E104"),
        ({"retry_on": ["django.conf.settings"]}, ["default"], "async_actions.E104"),
        ({}, ["emails"], "async_actions.W101"),
    ],
)
def test_bad_backend_configuration_is_reported_by_id(options, queues, check_id):
    config = {
        "BACKEND": "async_actions.django_tasks.CeleryBackend",
        "QUEUES": queues,
        "OPTIONS": options,
    }
    with override_settings(TASKS={"default": config}):
        ids = [message.id for message in task_backends["default"].check()]

    assert ids == [check_id]


@worker
def test_aenqueue_from_async_code():
    async def enqueue_and_read():
        result = await dtasks.add.aenqueue(4, 5)
        return result.id

    result_id = asyncio.run(enqueue_and_read())

    wait_for_report(int(result_id))
    assert dtasks.add.get_result(result_id).return_value == 9


@worker
def test_a_run_shows_in_the_admin_as_its_action(client):
    client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
    result = finished(dtasks.named.enqueue())

    page = client.get(f"/admin/async_actions/asyncactionreport/{result.id}/change/")

    assert page.status_code == 200
    assert "Named by the backend" in page.content.decode()


def test_the_documented_status_table_is_the_mapping():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "django-tasks.md").read_text()
    table = doc.split("### Statuses", 1)[1].split("###", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \|", table, re.M)

    assert dict(rows) == {ours: str(theirs) for ours, theirs in STATUS_MAP.items()}


@worker
def test_the_celery_task_sent_without_a_report_runs_and_records_nothing():
    from async_actions.tasks import run_django_task
    from async_actions.testing import wait_for

    run_django_task.delay("tests.testapp.dtasks.create_marker", ["direct"], {}, backend="default")

    wait_for(lambda: Marker.objects.filter(name="direct").exists(), what="the direct run")
    assert not AsyncActionReport.objects.exists()
