"""Idempotency keys: the same key must mean the same action.

A report started with a key stores a fingerprint of what it started (the canvas shape,
task names and arguments, not ids or options). Starting again with that key returns the
report only if the action name and fingerprint match; anything else is a conflict.
"""

from __future__ import annotations

import hashlib
from typing import Any

from celery.canvas import Signature, _chain, chord, group
from kombu.utils.json import dumps

from async_actions.errors import IdempotencyConflictError, InvalidActionError
from async_actions.models import AsyncActionReport

KEY_MAX_LENGTH = AsyncActionReport._meta.get_field("idempotency_key").max_length or 255


def check_key(key: Any) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not key:
        raise InvalidActionError(
            f"idempotency_key must be a non-empty string or None, got {key!r:.80}."
        )
    if "\x00" in key:
        raise InvalidActionError(f"idempotency_key must not contain a NUL byte: {key!r:.80}.")
    if len(key) > KEY_MAX_LENGTH:
        raise InvalidActionError(
            f"idempotency_key is {len(key)} characters long; the limit is {KEY_MAX_LENGTH}. "
            f"Hash a longer key first (e.g. hashlib.sha256(key).hexdigest())."
        )
    return key


def _shape(sig: Signature) -> list[Any]:
    if isinstance(sig, chord):
        header = sig.tasks.tasks if isinstance(sig.tasks, group) else sig.tasks
        return ["chord", [_shape(task) for task in header], _shape(sig.body)]
    if isinstance(sig, group):
        return ["group", [_shape(task) for task in sig.tasks]]
    if isinstance(sig, _chain):
        return ["chain", [_shape(task) for task in sig.tasks]]
    return ["task", sig.task, list(sig.args or ()), dict(sig.kwargs or {}), bool(sig.immutable)]


def fingerprint(signature: Signature) -> str:
    """A hash of what `signature` runs: canvas shape, task names, arguments."""
    return hashlib.sha256(dumps(_shape(signature), sort_keys=True).encode()).hexdigest()


def check_same_action(
    existing: AsyncActionReport, *, key: str, action: str, fingerprint: str
) -> AsyncActionReport:
    """`existing` if it was started for this same action, else IdempotencyConflictError."""
    if existing.action == action and existing.fingerprint in (fingerprint, ""):
        return existing
    what = "action name" if existing.action != action else "tasks or arguments"
    raise IdempotencyConflictError(
        f"Idempotency key {key!r} was already used by report {existing.pk} "
        f"({existing.action!r}, task {existing.task_name!r}) with a different {what}; "
        f"use another key for a different action.",
        key=key,
        report_id=existing.pk,
    )
