"""The two ways a worker writes statuses, and recovery from a dropped database connection."""

import logging
import time

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from async_actions import AsyncActionReport, Status, start_action
from async_actions.testing import wait_for, wait_for_report
from async_actions.tracker import Tracker
from tests.testapp import tasks
from tests.testapp.models import Marker

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_writing_each_status_at_once_tracks_the_same(
    async_actions_start_worker, async_actions_queue
):
    worker = async_actions_start_worker(
        "unbuffered", queue=f"{async_actions_queue}-unbuffered", env={"AA_TEST_FLUSH_INTERVAL": "0"}
    )

    ok = start_action("At once", tasks.flaky.s(1).set(queue=worker.queue))
    failed = start_action("At once, failing", tasks.fail.s("no").set(queue=worker.queue))

    ok, failed = wait_for_report(ok), wait_for_report(failed)
    # Celery publishes the retry before its event is handled: attempt 2's success may be
    # written first, and attempt 1's error lands on the finished row just after.
    wait_for(
        lambda: AsyncActionReport.objects.filter(pk=ok.pk).exclude(last_retry_error="").exists(),
        timeout=10,
        what="attempt 1's error on the report",
    )
    ok.refresh_from_db()
    assert (ok.status, ok.attempts, ok.last_retry_error) == (
        Status.OK,
        2,
        "ConnectionError: attempt 1 failed",
    )
    assert ok.started_at <= ok.finished_at
    assert (failed.status, failed.error_type) == (Status.FAILED, "ValueError")


@pytest.mark.usefixtures("async_actions_worker")
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="kills server-side PostgreSQL backends",
)
def test_tracking_survives_the_database_dropping_the_workers_connections():
    assert (
        wait_for_report(start_action("Before", tasks.record_db_connection.s("before"))).status
        == "ok"
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.rowcount >= 1

    after = [start_action(f"After {i}", tasks.record_db_connection.s("after")) for i in range(4)]
    for report in after:
        assert wait_for_report(report).status == Status.OK
    assert Marker.objects.filter(name__startswith="after:").count() == 4


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="kills a server-side PostgreSQL backend",
)
def test_the_status_writer_replaces_a_dropped_connection_without_an_outage(caplog):
    """It checks its connection once a second, not before every flush: a flush that finds it
    dropped is tried again at once on a new one, and nothing is logged as lost."""
    tracker = Tracker(flush_interval=0.02, worker="test-reconnect:1")
    assert tracker.buffer is not None
    first, second = (AsyncActionReport.objects.create(action=name) for name in ("1st", "2nd"))

    def run(report):
        now = timezone.now()
        tracker.buffer.started(report.pk, None, 1, now)
        tracker.buffer.finished(report.pk, None, 1, now)
        deadline = time.monotonic() + 10
        while AsyncActionReport.objects.get(pk=report.pk).status != Status.OK:
            assert time.monotonic() < deadline, "the buffered success was not written"
            time.sleep(0.01)

    try:
        run(first)  # the writer thread now has its connection
        with connection.cursor() as cursor:
            # The writer thread's (the only other connection this test makes).
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.rowcount >= 1
        run(second)
    finally:
        tracker.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
