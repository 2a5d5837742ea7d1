"""Every Celery and kombu internal the library relies on, in one place.

Each is checked by tests/test_celery_internals.py, which fails loudly (naming the
internal) when a Celery or kombu release changes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery, uuid
from celery.canvas import Signature, _chain
from celery.fixups.django import DjangoFixup

# The class of `chain(...)` / `a | b`: Celery exports `chain` as a subclass-producing
# factory, so isinstance checks need the private base class.
ChainType = _chain


def django_fixups(app: Celery) -> list[DjangoFixup]:
    """The Django fixups Celery installed on `app` (they close connections around tasks)."""
    return [
        fixup for fixup in getattr(app, "_fixups", None) or () if isinstance(fixup, DjangoFixup)
    ]


# Read by Celery's Django fixup before it runs Django's system checks on module import.
SKIP_CHECKS_VARIABLE = "CELERY_SKIP_CHECKS"


@contextmanager
def django_checks_skipped() -> Iterator[None]:
    """Import task modules without the system checks Celery's Django fixup runs then.

    Those checks may query the database (Django 6.1's JSONField check does), which a test
    without database access must not; the test run has its own checks anyway.
    """
    before = os.environ.get(SKIP_CHECKS_VARIABLE)
    os.environ[SKIP_CHECKS_VARIABLE] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ[SKIP_CHECKS_VARIABLE]
        else:
            os.environ[SKIP_CHECKS_VARIABLE] = before


def set_db_reuse_max(fixup: DjangoFixup, value: int) -> None:
    """How many tasks Celery lets a connection serve before closing it."""
    worker_fixup: Any = fixup.worker_fixup
    worker_fixup.db_reuse_max = value


# -- one task's message, built without the canvas machinery (the hot path of a start) --------

STAMPED_HEADERS_OPTION = "stamped_headers"


def plain_task(signature: Signature) -> bool:
    """A single task's own signature, with no callbacks: the fast paths below apply to it."""
    options = signature.options
    return type(signature) is Signature and "link" not in options and "link_error" not in options


def freeze_task(signature: Signature) -> str:
    """What `signature.freeze()` does to a plain task: a task id (kept if set) and reply_to.

    Without the AsyncResult freeze() builds and the caller would throw away.
    """
    options = signature.options
    task_id: str = options.setdefault("task_id", uuid())
    if "reply_to" not in options:
        options["reply_to"] = signature.app.thread_oid
    return task_id


def stamp_task_options(signature: Signature, stamps: dict[str, Any]) -> None:
    """What `signature.stamp(**stamps)` does to a plain task: the stamps, and their names.

    Celery sends the options named in `stamped_headers` as the message's stamps.
    """
    options = signature.options
    names = list(options.get(STAMPED_HEADERS_OPTION) or ())
    names += [name for name in stamps if name not in names]
    options.update(stamps)
    options[STAMPED_HEADERS_OPTION] = names


def publish_task(signature: Signature, **options: Any) -> None:
    """`signature.apply_async(**options)` for a plain task, without copying its options.

    Signature.apply_async deep-copies the options to merge the extra ones in; a start's
    signature is already its own copy, so its task's apply_async gets them directly.
    """
    signature.type.apply_async(
        signature.args, signature.kwargs, **{**signature.options, **options}
    )


def argument_checker(task: Any) -> Callable[..., Any] | None:
    """Celery's check that arguments fit a task (what its apply_async calls when publishing).

    A function-based task has a `__header__`: a function with the task's own parameters and
    an empty body, so a call with the wrong arguments raises TypeError. None for others.
    """
    checker = getattr(task, "__header__", None)
    return checker if callable(checker) else None
