"""Worker-side clock: when the first task started and the last one finished, kept in Redis.

Every variant pays the same: one INCR per task, and one SET per process for the first start.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from celery import signals
from django.conf import settings

FIRST = "aa-bench:first"
LAST = "aa-bench:last"
DONE = "aa-bench:done"

_client: redis.Redis | None = None
_started = False


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def reset() -> None:
    client().delete(FIRST, LAST, DONE)


@signals.worker_process_init.connect
def _forget_parent_state(**kwargs: Any) -> None:
    global _client, _started
    _client, _started = None, False


@signals.task_prerun.connect
def _first_start(**kwargs: Any) -> None:
    global _started
    if not _started:
        _started = True
        client().set(FIRST, repr(time.time()), nx=True)


@signals.task_postrun.connect
def _one_done(**kwargs: Any) -> None:
    # One round trip: the count, and the time of the latest finish.
    client().pipeline(transaction=False).incr(DONE).set(LAST, repr(time.time())).execute()
