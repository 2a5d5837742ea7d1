"""The Celery and kombu internals the library relies on still exist and look the same.

Each lives in async_actions._celery_internals (or, for a transport, in the method it
overrides); when a Celery or kombu release changes one, this fails naming it.
"""

import inspect

from celery import chain
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup
from kombu.transport import filesystem

from async_actions._celery_internals import ChainType, django_fixups
from tests.celery_app import app


def test_chain_instances_are_of_the_private_chain_class():
    from tests.testapp import tasks

    assert isinstance(chain(tasks.noop.si(), tasks.noop.si()), ChainType), "celery.canvas._chain"


def test_the_app_keeps_its_django_fixups_with_a_db_reuse_max():
    fixups = django_fixups(app)
    assert fixups, "Celery.app._fixups no longer holds the DjangoFixup"
    assert isinstance(fixups[0], DjangoFixup)
    worker_fixup = fixups[0].worker_fixup
    assert isinstance(worker_fixup, DjangoWorkerFixup)
    assert hasattr(worker_fixup, "db_reuse_max"), "DjangoWorkerFixup.db_reuse_max"


def test_kombus_filesystem_channel_still_has_the_put_our_transport_overrides():
    put = filesystem.Channel._put
    assert list(inspect.signature(put).parameters)[:3] == ["self", "queue", "payload"], (
        "kombu.transport.filesystem.Channel._put changed"
    )
