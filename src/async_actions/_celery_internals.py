"""Every Celery and kombu internal the library relies on, in one place.

Each is checked by tests/test_celery_internals.py, which fails loudly (naming the
internal) when a Celery or kombu release changes it.
"""

from __future__ import annotations

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


def set_db_reuse_max(fixup: DjangoFixup, value: int) -> None:
    """How many tasks Celery lets a connection serve before closing it."""
    worker_fixup: Any = fixup.worker_fixup
    worker_fixup.db_reuse_max = value
