"""The outbox: a broker that cannot be reached never fails a start; the relay sends later.

The broker is a Redis of the test's own (RedisServer), stopped and started for real; the
messages the relay publishes are counted in that Redis.
"""

import json
import subprocess
import sys
import time

import pytest
from celery import Celery, Task, chain
from celery.signals import before_task_publish
from django.core.management import call_command
from django.db import transaction
from kombu import Producer

from async_actions import ActionSpec, AsyncActionReport, Status, start_action, start_actions
from async_actions.outbox import reports_relay
from async_actions.testing.faults import RedisServer

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "outbox-test"


class BrokenPublish(Task):
    """A project's task base whose publish hook raises (not a broker error)."""

    def apply_async(self, *args, **kwargs):
        raise RuntimeError("the project's publish hook failed")


@pytest.fixture
def broker():
    with RedisServer() as server:
        yield server


@pytest.fixture
def app(broker):
    app = Celery("outbox", broker=broker.url(0), set_as_current=False)
    app.conf.task_default_queue = QUEUE

    @app.task(name="outbox.add", shared=False)
    def add(x, y):
        return x + y

    @app.task(name="outbox.broken", base=BrokenPublish, shared=False)
    def broken(value):
        return value

    return app


def _queued(broker):
    import redis

    return redis.Redis.from_url(broker.url(0)).llen(QUEUE)


def test_a_reachable_broker_records_sent_at(app, broker):
    report = start_action("Sent", app.tasks["outbox.add"].s(1, 2))

    stored = AsyncActionReport.objects.get(pk=report.pk)
    assert stored.sent_at is not None and report.sent_at == stored.sent_at
    assert (stored.outbox, stored.send_error) == ("", "")
    assert _queued(broker) == 1


def test_broker_down_keeps_the_report_pending_and_unsent_without_blocking(app, broker):
    broker.stop()
    started = time.monotonic()

    report = start_action("Unsent", app.tasks["outbox.add"].s(1, 2))

    blocked = time.monotonic() - started
    stored = AsyncActionReport.objects.get(pk=report.pk)
    assert stored.status == Status.PENDING and stored.sent_at is None
    assert "Error" in stored.send_error and stored.outbox
    # The returned object says so too.
    assert report.sent_at is None and report.send_error == stored.send_error
    assert blocked < 1.0, f"the caller was blocked {blocked:.2f}s"  # the bound the issue sets


def test_the_relay_sends_each_unsent_report_once_when_the_broker_is_back(app, broker):
    broker.stop()
    reports = [start_action("Later", app.tasks["outbox.add"].s(i, 1)) for i in range(3)] + [
        start_action(
            "Later chain", chain(app.tasks["outbox.add"].s(1, 1), app.tasks["outbox.add"].s(2))
        )
    ]
    assert reports_relay(app=app) == 0  # still down: nothing sent, nothing lost
    broker.start()

    assert reports_relay(app=app) == 4
    assert reports_relay(app=app) == 0

    assert _queued(broker) == 4  # a chain is one message: its first task
    for report in AsyncActionReport.objects.filter(pk__in=[r.pk for r in reports]):
        assert report.sent_at is not None and report.outbox == "" and report.send_error == ""
        assert report.status == Status.PENDING


def test_a_later_successful_start_relays_the_outbox(app, broker):
    start_action("Before", app.tasks["outbox.add"].s(0, 0))  # a pooled connection exists
    broker.stop()
    unsent = start_action("Unsent", app.tasks["outbox.add"].s(1, 2))
    broker.start()

    start_action("Sent", app.tasks["outbox.add"].s(3, 4))

    unsent.refresh_from_db()
    assert unsent.sent_at is not None
    assert _queued(broker) == 2  # the restarted Redis lost "Before"; it has the other two


def test_an_error_that_is_not_the_broker_fails_that_report_and_not_the_others(app, broker):
    with transaction.atomic():
        first = start_action("First", app.tasks["outbox.add"].s(1, 2))
        broken = start_action("Broken", app.tasks["outbox.broken"].s(1))
        last = start_action("Last", app.tasks["outbox.add"].s(5, 6))

    stored = AsyncActionReport.objects.in_bulk([first.pk, broken.pk, last.pk])
    assert stored[broken.pk].status == Status.FAILED and broken.status == Status.FAILED
    assert stored[broken.pk].error_type == "RuntimeError"
    assert "Could not publish the task 'outbox.broken'" in stored[broken.pk].error_message
    assert "the project's publish hook failed" in stored[broken.pk].error_message
    assert stored[broken.pk].outbox == ""  # publishing again would fail the same way
    for report in (first, last):
        assert stored[report.pk].status == Status.PENDING and stored[report.pk].sent_at
    assert _queued(broker) == 2


def test_several_relays_at_once_send_each_report_exactly_once(
    app, broker, async_actions_test_db_names
):
    broker.stop()
    ids = [start_action("Later", app.tasks["outbox.add"].s(i, 1)).pk for i in range(40)]
    broker.start()
    command = [sys.executable, "-m", "tests.relay_main", broker.url(0), QUEUE]
    command.append(json.dumps(async_actions_test_db_names))
    relays = [subprocess.Popen(command, stdout=subprocess.PIPE) for _ in range(3)]
    counts = [int(relay.communicate(timeout=60)[0]) for relay in relays]

    assert sum(counts) == 40
    assert _queued(broker) == 40
    assert not AsyncActionReport.objects.filter(pk__in=ids, sent_at__isnull=True).exists()


def test_the_relay_command_and_its_bad_arguments(app, broker, capsys):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--limit must be at least 1, got 0"):
        call_command("async_actions_relay", "--limit", "0")
    call_command("async_actions_relay")
    assert "Sent 0 unsent report(s)" in capsys.readouterr().out


needs_publish_batches = pytest.mark.skipif(
    not hasattr(Producer, "batch"), reason="kombu publishes in batches from 5.7 on"
)


def _redis(broker):
    import redis

    return redis.Redis.from_url(broker.url(0))


@needs_publish_batches
def test_start_actions_sends_its_messages_to_redis_together(app, broker):
    """One pipelined round trip for the whole call: none is in Redis until all are built."""
    queued_at_each_publish: list[int] = []

    def count(**kwargs):
        queued_at_each_publish.append(_queued(broker))

    before_task_publish.connect(count, weak=False)
    try:
        start_actions(ActionSpec(f"Bulk {i}", app.tasks["outbox.add"].s(i, 1)) for i in range(3))
    finally:
        before_task_publish.disconnect(count)

    assert queued_at_each_publish == [0, 0, 0]  # one by one, it would be [0, 1, 2]
    assert _queued(broker) == 3


@needs_publish_batches
def test_a_batch_redis_refuses_keeps_every_report_of_the_call_for_the_relay(app, broker):
    start_action("Before", app.tasks["outbox.add"].s(0, 0))  # a pooled connection exists
    redis = _redis(broker)
    redis.config_set("maxmemory-policy", "noeviction")
    redis.config_set("maxmemory", 1)  # every write is refused (OOM), reads still work

    reports = start_actions(
        ActionSpec(f"Refused {i}", app.tasks["outbox.add"].s(i, 1)) for i in range(3)
    )

    for report in reports:
        stored = AsyncActionReport.objects.get(pk=report.pk)
        assert stored.status == Status.PENDING and stored.sent_at is None
        assert "BatchPublishError" in stored.send_error and stored.outbox
        assert "OutOfMemoryError" in stored.send_error  # the cause, from Redis
        assert report.send_error == stored.send_error  # the returned objects say so too
    redis.config_set("maxmemory", 0)
    assert reports_relay(app=app) == 3
    assert _queued(broker) == 4


def test_start_actions_fails_only_the_item_whose_publish_is_broken(app, broker):
    reports = start_actions(
        [
            ActionSpec("First", app.tasks["outbox.add"].s(1, 2)),
            ActionSpec("Broken", app.tasks["outbox.broken"].s(1)),
            ActionSpec("Last", app.tasks["outbox.add"].s(5, 6)),
        ]
    )

    first, broken, last = (AsyncActionReport.objects.get(pk=r.pk) for r in reports)
    assert broken.status == Status.FAILED and "publish hook failed" in broken.error_message
    for report in (first, last):
        assert report.status == Status.PENDING and report.sent_at is not None
        assert report.send_error == "" and report.outbox == ""
    assert _queued(broker) == 2
