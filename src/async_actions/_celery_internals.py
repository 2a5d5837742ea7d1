"""Every Celery and kombu internal the library relies on, in one place.

Each is checked by tests/test_celery_internals.py, which fails loudly (naming the
internal) when a Celery or kombu release changes it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from celery.canvas import _chain
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
