"""Worker heartbeats: each worker process says it is alive, in the database.

The reaper marks a running report lost only when the worker process that runs it has been
silent for WORKER_LOST_AFTER seconds - never because a task is long. A frozen process
(SIGSTOP, a paused VM) stops beating too, so its reports are lost until it comes back.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.db import DatabaseError, IntegrityError, connection
from django.utils import timezone

from async_actions.models import AsyncActionWorker

logger = logging.getLogger(__name__)


def worker_name(hostname: str | None = None, pid: int | None = None) -> str:
    """This process's name in AsyncActionWorker and in a report's `worker` column."""
    return f"{hostname or socket.gethostname()}:{pid or os.getpid()}"


def beat(*, hostname: str, pid: int) -> None:
    """Record that `hostname:pid` is alive now (one UPDATE; an INSERT the first time)."""
    name, now = worker_name(hostname, pid), timezone.now()
    if AsyncActionWorker.objects.filter(name=name).update(last_seen=now):
        return
    try:
        AsyncActionWorker.objects.create(
            name=name, hostname=hostname[:255], pid=pid, started_at=now, last_seen=now
        )
    except IntegrityError:  # created meanwhile (a beat retried after a lost reply)
        AsyncActionWorker.objects.filter(name=name).update(last_seen=now)


class Heartbeat:
    """A daemon thread that beats every `interval` seconds until `stop()`."""

    def __init__(self, *, name: str | None = None, interval: float) -> None:
        self.name = name or worker_name()
        hostname, _, pid = self.name.rpartition(":")
        self.hostname, self.pid = hostname, int(pid)
        self.interval = interval
        self._stopped = threading.Event()
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="async-actions-heartbeat")
        self._thread.daemon = True

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                self._beat_once()
                if self._stopped.wait(self.interval):
                    return
        finally:
            connection.close()  # this thread's own connection

    def _beat_once(self) -> None:
        try:
            connection.close_if_unusable_or_obsolete()
            beat(hostname=self.hostname, pid=self.pid)
        except DatabaseError as exc:
            connection.close()  # reconnect at the next beat
            if not self._failing:  # once per outage, not every beat
                logger.error("Heartbeat of %s not recorded: %s", self.name, exc)
            self._failing = True
        else:
            if self._failing:
                logger.warning("Heartbeat of %s recorded again", self.name)
            self._failing = False
