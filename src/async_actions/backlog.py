"""Status writes a worker could not make: kept, in order, and retried until the database is back.

A worker must not drop an outcome because its database hiccupped (a failover, a restart,
a network cut), and must not stop running tasks either. So when a status write fails with
a database error, the write is kept here and a thread retries it with backoff (0.5 s
doubling to 30 s). Later writes queue behind it, so the order of a task's moves is kept.
The outage is logged loudly once, and once more with a summary when the writes got
through. A write still failing after WRITE_RETRY_WINDOW seconds is given up, loudly.

Every move is a conditional UPDATE, so a write retried after its first try did reach the
database (the reply was lost) changes nothing the second time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

FIRST_DELAY = 0.5
MAX_DELAY = 30.0


@dataclass
class _Kept:
    what: str
    write: Callable[[], object]
    since: float


class Backlog:
    """One per worker process (owned by its tracker)."""

    def __init__(self, *, window: float) -> None:
        self.window = window
        self._kept: deque[_Kept] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._outage_started: float | None = None
        self._given_up = 0

    def __len__(self) -> int:
        return len(self._kept)

    def run(self, write: Callable[[], object], *, what: str) -> None:
        """Write now, or keep the write for later if the database cannot take it."""
        with self._lock:
            if self._kept:  # behind earlier writes, never ahead of them
                self._kept.append(_Kept(what, write, time.monotonic()))
                return
        try:
            write()
        except DatabaseError as exc:
            close_connections()
            with self._lock:
                self._kept.append(_Kept(what, write, time.monotonic()))
                self._outage(exc, what)
            self._ensure_thread()

    def drain(self) -> bool:
        """Try every kept write once, in order; True when none is left."""
        while True:
            with self._lock:
                if not self._kept:
                    break
                kept = self._kept[0]
            try:
                kept.write()
            except DatabaseError as exc:
                close_connections()
                if time.monotonic() - kept.since > self.window:
                    with self._lock:
                        self._kept.popleft()
                        self._given_up += 1
                    logger.error(
                        "Gave up the status write %s after WRITE_RETRY_WINDOW=%gs: %s",
                        kept.what,
                        self.window,
                        exc,
                    )
                    continue
                return False
            with self._lock:
                self._kept.popleft()
                self._written_one()
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the retry thread; a last try for what is left (a warm shutdown)."""
        self._stopped = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._kept and not self.drain():
            logger.error(
                "Worker stopping with %d status write(s) the database did not take: %s",
                len(self._kept),
                ", ".join(k.what for k in list(self._kept)[:20]),
            )

    def _outage(self, exc: BaseException, what: str) -> None:
        if self._outage_started is None:
            self._outage_started = time.monotonic()
            self._written = 0
            logger.error(
                "Database unreachable: status write %s kept and retried until it is back "
                "(the worker keeps running tasks): %s",
                what,
                exc,
            )

    def _written_one(self) -> None:
        self._written = getattr(self, "_written", 0) + 1
        if not self._kept and self._outage_started is not None:
            logger.warning(
                "Database back: %d kept status write(s) written after %.1fs%s.",
                self._written,
                time.monotonic() - self._outage_started,
                f", {self._given_up} given up" if self._given_up else "",
            )
            self._outage_started = None
            self._given_up = 0

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="async-actions-backlog", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        delay = FIRST_DELAY
        try:
            while not self._stopped and self._kept:
                self._wake.wait(delay)
                if self.drain():
                    return
                delay = min(delay * 2, MAX_DELAY)
        finally:
            connections.close_all()  # this thread's own connections


def close_connections() -> None:
    """Drop this thread's connections (after a database error: the next try reconnects)."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DatabaseError:
            pass
