"""Faults injected for real, each bounded in time: the report must tell the truth after them.

SIGKILL of a worker child and of a whole worker, SIGSTOP past WORKER_LOST_AFTER then
SIGCONT, the broker (a Redis of the test's own) stopped and restarted, and the database
cut under a worker (a TCP proxy in front of PostgreSQL). Each test has a worker and a
queue of its own, so the session worker never takes its messages.
"""

import json
import os
import signal
import time
import uuid

import pytest
from celery import Celery
from django.db import connection

from async_actions import AsyncActionReport, Status, start_action
from async_actions.outbox import reports_relay
from async_actions.reaping import reports_reap
from async_actions.testing import wait_for, wait_for_report
from async_actions.testing.faults import RedisServer, TcpProxy, signal_tree
from tests.testapp import tasks
from tests.testapp.models import Marker

pytestmark = pytest.mark.django_db(transaction=True)

# Short enough for a test, long enough that a busy 2-core machine does not miss beats.
HEARTBEATS = {"HEARTBEAT_INTERVAL": 0.2, "WORKER_LOST_AFTER": 5}
RELIABLE = {"AA_TEST_RELIABLE": "1", "AA_TEST_ASYNC_ACTIONS": json.dumps(HEARTBEATS)}


@pytest.fixture
def queue(async_actions_queue):
    return f"{async_actions_queue}-fault-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def heartbeats(settings):
    settings.ASYNC_ACTIONS = {**getattr(settings, "ASYNC_ACTIONS", {}), **HEARTBEATS}


def _running(report, timeout=30.0):
    """Wait until a worker has started the report (its start write names the worker)."""
    return wait_for(
        lambda: (
            AsyncActionReport.objects.filter(pk=report.pk, status=Status.RUNNING)
            .exclude(worker="")
            .first()
        ),
        timeout=timeout,
        what=f"report {report.pk} to be running on a named worker",
    )


def test_a_killed_worker_child_runs_again_and_the_extra_attempt_is_counted(
    async_actions_start_worker, queue
):
    async_actions_start_worker("kill-child", queue=queue, env=RELIABLE)
    report = start_action("Killed child", tasks.create_marker.s("survivor", 2.0).set(queue=queue))
    running = _running(report)

    # The child running it, as an OOM kill would pick (the report names it). Killing an
    # idle child can leave the pool's shared queue lock held: billiard hangs then.
    os.kill(int(running.worker.rpartition(":")[2]), signal.SIGKILL)

    report = wait_for_report(report, timeout=60)
    assert report.status == Status.OK
    assert report.attempts == 2  # the killed run and the redelivered one
    assert Marker.objects.filter(name="survivor").count() == 1  # only the second finished


def test_a_worker_killed_whole_is_lost_by_its_silent_heartbeat_naming_it(
    async_actions_start_worker, queue, heartbeats
):
    worker = async_actions_start_worker("kill-all", queue=queue, env=RELIABLE)
    report = start_action("Killed worker", tasks.sleep_for.s(30).set(queue=queue))
    running = _running(report)

    signal_tree(worker.process.pid, signal.SIGKILL)
    worker.process.wait(10)

    wait_for(lambda: reports_reap().silent_worker, timeout=30, what="the reaper to lose it")
    report.refresh_from_db()
    assert report.status == Status.LOST and report.lost_at is not None
    assert f"worker {running.worker} has been silent" in report.error_message
    assert "'tests.testapp.tasks.sleep_for'" in report.error_message


def test_a_frozen_worker_is_lost_and_its_real_outcome_replaces_lost(
    async_actions_start_worker, queue, heartbeats
):
    worker = async_actions_start_worker("frozen", queue=queue, env=RELIABLE)
    report = start_action("Frozen", tasks.sleep_for.s(4).set(queue=queue))
    _running(report)
    # A live worker's task is never lost, however long it runs.
    assert reports_reap().total == 0

    signal_tree(worker.process.pid, signal.SIGSTOP)
    try:
        wait_for(lambda: reports_reap().silent_worker, timeout=30, what="the reaper to lose it")
        lost = AsyncActionReport.objects.get(pk=report.pk)
        assert lost.status == Status.LOST
    finally:
        signal_tree(worker.process.pid, signal.SIGCONT)

    report = wait_for_report(report, statuses=[Status.OK], timeout=30)
    assert report.lost_at == lost.lost_at  # when it was declared lost stays visible
    assert report.error_message == ""  # the lost explanation went with the lost status


def test_a_worker_lost_error_shows_the_attempt_and_its_start(async_actions_start_worker, queue):
    async_actions_start_worker("lost", queue=queue)
    report = wait_for_report(start_action("Die", tasks.kill_worker_child.s().set(queue=queue)))

    assert report.status == Status.FAILED and report.error_type == "WorkerLostError"
    assert report.attempts >= 1 and report.started_at is not None


@pytest.mark.skipif(
    os.environ.get("AA_DATABASE") != "postgres", reason="kills server-side PostgreSQL backends"
)
def test_a_child_lost_after_the_database_dropped_the_main_process_connection(
    async_actions_start_worker, queue
):
    # The main process writes a killed child's failure (with a database result backend,
    # Celery's own write comes first). Its connection must not outlive the write: the
    # database dropping it made the next failure unwritable and broke every new child.
    async_actions_start_worker(
        "main-conn", queue=queue, env={"AA_TEST_RESULT_BACKEND": "django-db"}
    )
    first = wait_for_report(start_action("Die", tasks.kill_worker_child.s().set(queue=queue)))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    second = wait_for_report(
        start_action("Die again", tasks.kill_worker_child.s().set(queue=queue))
    )
    after = wait_for_report(start_action("After", tasks.add.s(1, 2).set(queue=queue)))

    assert [r.error_type for r in (first, second)] == ["WorkerLostError"] * 2
    assert after.status == Status.OK  # the children forked since work


def test_the_broker_stopped_and_restarted(async_actions_start_worker, queue):
    with RedisServer() as redis:
        env = {"AA_BROKER": "redis", "AA_REDIS_URL": redis.url(0)}
        async_actions_start_worker("broker", queue=queue, env=env)
        app = Celery("faults-broker", broker=redis.url(0), set_as_current=False)
        app.conf.task_default_queue = queue
        add = app.tasks["tests.testapp.tasks.add"]
        before = wait_for_report(start_action("Before", add.s(1, 2)))

        redis.stop()
        during = start_action("During", add.s(2, 3))
        assert during.status == Status.PENDING and during.sent_at is None
        redis.start()

        assert reports_relay(app=app) == 1
        after = start_action("After", add.s(3, 4))
        during, after = wait_for_report(during, timeout=60), wait_for_report(after, timeout=60)

    assert [r.status for r in (before, during, after)] == [Status.OK] * 3
    assert during.attempts == 1 and during.sent_at is not None


@pytest.mark.skipif(
    os.environ.get("AA_DATABASE") != "postgres", reason="cuts a TCP connection to PostgreSQL"
)
def test_the_database_cut_while_tasks_finish_loses_no_outcome(async_actions_start_worker, queue):
    settings_dict = connection.settings_dict
    with TcpProxy(settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432)) as db:
        env = {**RELIABLE, "AA_PG_PORT": str(db.port)}
        async_actions_start_worker("db-cut", queue=queue, env=env, concurrency=4)
        reports = {
            "ok": [start_action("Ok", tasks.sleep_for.s(1.5).set(queue=queue)) for _ in range(3)],
            "failed": [
                start_action("Fails", tasks.sleep_for.s(1.5, fail=True).set(queue=queue))
                for _ in range(2)
            ],
        }
        for report in reports["ok"] + reports["failed"]:
            _running(report)

        db.cut()  # every task (1.5 s) finishes while its worker cannot reach the database
        time.sleep(3)
        db.restore()

        for expected, started in reports.items():
            for report in started:
                assert wait_for_report(report, timeout=60).status == expected


@pytest.mark.skipif(
    os.environ.get("AA_DATABASE") != "postgres", reason="cuts a TCP connection to PostgreSQL"
)
def test_a_success_the_database_did_not_take_survives_a_kill_of_its_worker(
    async_actions_start_worker, queue
):
    settings_dict = connection.settings_dict
    with TcpProxy(settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432)) as db:
        # Its unacknowledged messages (the kept success, if this worker took it) come back
        # after the kill: at once on RabbitMQ, after the visibility timeout on Redis.
        reliable = {**RELIABLE, "AA_TEST_VISIBILITY_TIMEOUT": "5"}
        env = {**reliable, "AA_PG_PORT": str(db.port)}
        worker = async_actions_start_worker("spill", queue=queue, env=env)
        report = start_action("Spilled", tasks.sleep_for.s(1.0).set(queue=queue))
        _running(report)

        db.cut()  # the task finishes while its worker cannot reach the database ...
        wait_for(lambda: "kept in the broker" in worker.log(), what="the success to be kept")
        time.sleep(0.5)  # ... its message is acknowledged ...
        signal_tree(worker.process.pid, signal.SIGKILL)  # ... and the worker dies with it
        worker.process.wait(10)
        db.restore()

    async_actions_start_worker("spill-after", queue=queue, env=reliable)
    report = wait_for_report(report, timeout=60)
    assert report.status == Status.OK
    assert report.attempts >= 1 and report.finished_at is not None


@pytest.mark.skipif(
    os.environ.get("AA_DATABASE") != "postgres" or os.environ.get("AA_BROKER") is None,
    reason="kills server-side PostgreSQL backends; revokes need remote control",
)
def test_revokes_after_the_database_dropped_the_main_process_connection(
    async_actions_start_worker, queue
):
    # With a database result backend, Celery's main process reads and writes it for every
    # revoke. A connection it kept and the database then dropped failed the next revoke,
    # and the revoked message after it stopped the whole worker.
    worker = async_actions_start_worker(
        "revokes", queue=queue, env={"AA_TEST_RESULT_BACKEND": "django-db"}
    )
    app = tasks.add.app

    def revoke(task_id):
        app.control.revoke(task_id, destination=[worker.hostname], reply=True, timeout=10)

    revoke(uuid.uuid4().hex)  # the main process opens its connection
    time.sleep(1.5)  # ... and closes it within a second
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    revoked = uuid.uuid4().hex
    revoke(revoked)
    tasks.add.apply_async((1, 1), task_id=revoked, queue=queue)  # discarded as revoked

    after = wait_for_report(start_action("After", tasks.add.s(1, 2).set(queue=queue)))
    assert after.status == Status.OK
    assert worker.process.poll() is None, worker.log()[-3000:]
