"""Who enqueues, and under which action name: what `.enqueue()` itself has no place for.

    with enqueue_as(triggered_by=request.user, action="Send the March invoices"):
        send_invoices.enqueue(month="2026-03")

The values live for the `with` block of the calling thread or coroutine only (a
ContextVar); nothing reaches the worker but what the report records.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EnqueueAs:
    action: str | None = None
    triggered_by: Any = None
    origin: str | None = None
    idempotency_key: str | None = None


_NOBODY = EnqueueAs()
_current: ContextVar[EnqueueAs | None] = ContextVar("async_actions_enqueue_as", default=None)


def current_enqueue_as() -> EnqueueAs:
    return _current.get() or _NOBODY


@contextmanager
def enqueue_as(
    *,
    action: str | None = None,
    triggered_by: Any = None,
    origin: str | None = None,
    idempotency_key: str | None = None,
) -> Iterator[None]:
    """`start_action`'s who/what/idempotency for every `.enqueue()` inside the block."""
    token = _current.set(EnqueueAs(action, triggered_by, origin, idempotency_key))
    try:
        yield
    finally:
        _current.reset(token)
