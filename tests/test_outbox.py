"""The outbox: a broker that cannot be reached never fails a start; the relay sends later.
With PUBLISH = "relay" every start goes through it: the start's INSERT keeps the message and
a relay sends it.

The broker is a Redis of the test's own (RedisServer), stopped and started for real; the
messages the relay publishes are counted and read in that Redis. The end-to-end tests run
the real worker and the real relay command.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from celery import chain
from celery.signals import before_task_publish
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from kombu import Producer

from async_actions import (
    ActionSpec,
    AsyncActionReport,
    AsyncActionStep,
    Status,
    start_action,
    start_actions,
)
from async_actions.outbox import UNSTAMPED, relay_forever, reports_relay
from async_actions.signatures import REPORT_ID_STAMP, STEP_STAMP
from async_actions.testing import wait_for_report
from async_actions.testing.faults import RedisServer
from tests.outbox_support import outbox_app
from tests.testapp import tasks
from tests.testapp.models import Marker

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "outbox-test"
RELAYED = override_settings(ASYNC_ACTIONS={"PUBLISH": "relay"})


@pytest.fixture
def broker():
    with RedisServer() as server:
        yield server


@pytest.fixture
def app(broker):
    return outbox_app(broker.url(0), QUEUE)


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


# -- PUBLISH = "relay": every start through the outbox -----------------------------------


def _messages(broker):
    """The messages in the test queue, oldest first, as (headers, body)."""
    import redis

    found = []
    for raw in reversed(redis.Redis.from_url(broker.url(0)).lrange(QUEUE, 0, -1)):
        message = json.loads(raw)
        found.append((message["headers"], json.loads(base64.b64decode(message["body"]))))
    return found


@RELAYED
def test_a_start_writes_its_message_in_one_insert_and_publishes_nothing(
    app, broker, django_assert_num_queries
):
    with django_assert_num_queries(1):
        report = start_action("Relayed", app.tasks["outbox.add"].s(1, 2))

    stored = AsyncActionReport.objects.get(pk=report.pk)
    assert stored.status == Status.PENDING
    assert stored.sent_at is None and report.sent_at is None
    assert json.loads(stored.outbox)[UNSTAMPED] == "report"
    assert _messages(broker) == []  # the caller published nothing


@RELAYED
def test_the_relay_stamps_each_message_with_its_report_and_sends_it_once(app, broker):
    add = app.tasks["outbox.add"]
    single = start_action("Single", add.s(1, 2))
    workflow = start_action("Workflow", chain(add.s(1, 1), add.s(2)))
    many = start_actions(ActionSpec(f"Many {i}", add.s(i, 0)) for i in range(3))

    assert reports_relay(app=app) == 5
    assert reports_relay(app=app) == 0  # sent once

    messages = _messages(broker)
    assert len(messages) == 5  # a chain is one message: its first task
    by_task_id = {headers["id"]: headers for headers, _ in messages}
    assert by_task_id[single.task_id]["stamps"] == {REPORT_ID_STAMP: single.pk}
    first_step = AsyncActionStep.objects.get(report=workflow, position=0)
    assert by_task_id[first_step.task_id]["stamps"] == {STEP_STAMP: workflow.pk}
    for report in many:
        assert by_task_id[report.task_id]["stamps"] == {REPORT_ID_STAMP: report.pk}
    # The chain's next step travels in the first one's message, stamped too.
    (_, body) = next(m for m in messages if m[0]["id"] == first_step.task_id)
    (next_step,) = body[2]["chain"]
    assert next_step["options"][STEP_STAMP] == workflow.pk
    for report in AsyncActionReport.objects.all():
        assert report.sent_at is not None and report.outbox == "" and report.send_error == ""
        assert report.status == Status.PENDING  # no worker here


@RELAYED
def test_a_rolled_back_start_leaves_nothing_to_relay(app, broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        start_action("Rolled back", app.tasks["outbox.add"].s(1, 2))
        raise RuntimeError("the caller's transaction fails")

    assert not AsyncActionReport.objects.exists()
    assert reports_relay(app=app) == 0
    assert _messages(broker) == []


class CallerDied(Exception):
    """Stands for a caller killed between its commit and what follows it."""


def _die_after_commit():
    raise CallerDied


@pytest.mark.parametrize("publish", ["commit", "relay"])
def test_a_caller_that_dies_after_its_commit_loses_the_message_only_without_the_relay(
    app, broker, publish
):
    with override_settings(ASYNC_ACTIONS={"PUBLISH": publish}):
        # Django runs on_commit callbacks in order and stops at one that raises: this one,
        # registered first, stops the caller before the start's own publish.
        with pytest.raises(CallerDied), transaction.atomic():
            transaction.on_commit(_die_after_commit)
            start_action("Committed", app.tasks["outbox.add"].s(1, 2))
        report = AsyncActionReport.objects.get()

        sent = reports_relay(app=app)

    report.refresh_from_db()
    if publish == "relay":
        assert sent == 1 and report.sent_at is not None
        assert [headers["stamps"] for headers, _ in _messages(broker)] == [
            {REPORT_ID_STAMP: report.pk}
        ]
    else:  # the report says sent, but nothing was: the reaper marks it lost later
        assert sent == 0 and report.sent_at is not None
        assert _messages(broker) == []


@RELAYED
def test_an_unreadable_entry_fails_its_report_and_the_others_are_sent(app, broker):
    good = start_action("Good", app.tasks["outbox.add"].s(1, 2))
    bad = start_action("Bad", app.tasks["outbox.add"].s(3, 4))
    AsyncActionReport.objects.filter(pk=bad.pk).update(outbox="{not json")

    assert reports_relay(app=app) == 1

    bad.refresh_from_db()
    assert bad.status == Status.FAILED and bad.finished_at is not None
    assert "Could not read the message in the outbox" in bad.error_message
    assert [headers["id"] for headers, _ in _messages(broker)] == [good.task_id]
    assert reports_relay(app=app) == 0  # the failed one is not tried again


@RELAYED
def test_a_following_relay_waits_out_a_broker_outage_and_then_sends(app, broker):
    broker.stop()
    report = start_action("During the outage", app.tasks["outbox.add"].s(1, 2))
    stop = threading.Event()
    relay = threading.Thread(
        target=relay_forever, kwargs={"app": app, "interval": 0.02, "stop": stop}
    )
    relay.start()
    try:
        deadline = time.monotonic() + 10
        while not AsyncActionReport.objects.get(pk=report.pk).send_error:
            assert time.monotonic() < deadline, "the relay never tried"
            time.sleep(0.05)
        assert AsyncActionReport.objects.get(pk=report.pk).sent_at is None
        broker.start()
        while AsyncActionReport.objects.get(pk=report.pk).sent_at is None:
            assert time.monotonic() < deadline, "not sent once the broker was back"
            time.sleep(0.05)
    finally:
        stop.set()
        relay.join(timeout=15)
    assert not relay.is_alive()
    assert [headers["stamps"] for headers, _ in _messages(broker)] == [
        {REPORT_ID_STAMP: report.pk}
    ]
    report.refresh_from_db()
    assert report.outbox == "" and report.send_error == ""


@RELAYED
@pytest.mark.usefixtures("action_worker", "action_relay")
def test_relayed_actions_run_on_a_real_worker_with_the_testing_kits_relay():
    single = start_action("Single", tasks.create_marker.s("relayed-1"))
    workflow = start_action("Workflow", chain(tasks.noop.si(), tasks.create_marker.si("relayed-2")))
    (many,) = start_actions([ActionSpec("Many", tasks.create_marker.s("relayed-3"))])
    for report in (single, workflow, many):
        assert wait_for_report(report).status == Status.OK
    steps = AsyncActionStep.objects.filter(report=workflow).order_by("position")
    assert [step.status for step in steps] == [Status.OK, Status.OK]
    assert sorted(Marker.objects.values_list("name", flat=True)) == [
        "relayed-1",
        "relayed-2",
        "relayed-3",
    ]


def test_eager_mode_runs_the_task_at_once_whatever_publish_says(settings):
    from tests.celery_app import app as celery_app

    celery_app.conf.task_always_eager = True
    try:
        with RELAYED:
            report = start_action("Eager", tasks.create_marker.s("eager"))
    finally:
        celery_app.conf.task_always_eager = False
    assert Marker.objects.filter(name="eager").exists()
    assert AsyncActionReport.objects.get(pk=report.pk).outbox == ""


def test_the_follow_command_relays_until_sigterm(app, broker, async_actions_test_db_names):
    with RELAYED:
        report = start_action("Relayed", app.tasks["outbox.add"].s(1, 2))
    command = [sys.executable, "-m", "tests.relay_main", broker.url(0), QUEUE]
    command += [json.dumps(async_actions_test_db_names), "--follow"]
    relay = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while AsyncActionReport.objects.get(pk=report.pk).sent_at is None:
            assert relay.poll() is None, "the relay exited"
            assert time.monotonic() < deadline, "the relay sent nothing"
            time.sleep(0.05)
        with RELAYED:
            later = start_action("Later", app.tasks["outbox.add"].s(3, 4))
        while AsyncActionReport.objects.get(pk=later.pk).sent_at is None:
            assert time.monotonic() < deadline, "a later start was not sent"
            time.sleep(0.05)
    finally:
        os.kill(relay.pid, signal.SIGTERM)
        output = relay.communicate(timeout=15)[0]
    assert relay.returncode == 0
    assert "Relay stopped." in output
    assert [headers["id"] for headers, _ in _messages(broker)] == [report.task_id, later.task_id]


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["--limit", "0"], "--limit must be at least 1, got 0"),
        (["--follow", "--interval", "0"], "--interval must be a positive number of seconds"),
        (["--follow", "--interval", "-1"], "--interval must be a positive number of seconds"),
    ],
)
def test_the_relay_command_names_a_bad_argument(arguments, error):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=error):
        call_command("async_actions_relay", *arguments)
