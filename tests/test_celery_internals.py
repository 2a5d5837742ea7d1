"""The Celery and kombu internals the library relies on still exist and look the same.

Each lives in async_actions._celery_internals (or, for a transport, in the method it
overrides); when a Celery or kombu release changes one, this fails naming it.
"""

import inspect

from celery import chain
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup
from kombu.transport import filesystem

from async_actions._celery_internals import SKIP_CHECKS_VARIABLE, ChainType, django_fixups
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


def test_the_django_fixup_still_skips_its_checks_on_the_variable():
    source = inspect.getsource(DjangoWorkerFixup.validate_models)
    assert f"os.environ.get('{SKIP_CHECKS_VARIABLE}')" in source.replace('"', "'"), (
        "DjangoWorkerFixup.validate_models no longer reads CELERY_SKIP_CHECKS"
    )


def test_kombus_filesystem_channel_still_has_the_put_our_transport_overrides():
    put = filesystem.Channel._put
    assert list(inspect.signature(put).parameters)[:3] == ["self", "queue", "payload"], (
        "kombu.transport.filesystem.Channel._put changed"
    )


def test_a_plain_tasks_freeze_only_sets_its_task_id():
    from async_actions._celery_internals import freeze_task
    from tests.testapp import tasks

    celery_frozen, ours = tasks.add.s(1, 2), tasks.add.s(1, 2)
    task_id = celery_frozen.freeze().id
    ours.options["task_id"] = task_id
    assert freeze_task(ours) == task_id
    assert dict(ours) == dict(celery_frozen), "Signature.freeze() sets more than task_id"
    assert freeze_task(tasks.add.s(1, 2)) != task_id  # a new one when none is set


def test_stamping_a_plain_task_sets_the_options_celery_stamp_sets():
    from async_actions._celery_internals import stamp_task_options
    from tests.testapp import tasks

    for before in ({}, {"stamped_headers": ["mine"], "mine": 1}):
        celery_stamped = tasks.add.s(1, 2).set(**before)
        ours = tasks.add.s(1, 2).set(**before)
        celery_stamped.stamp(report=7, step=1)
        stamp_task_options(ours, {"report": 7, "step": 1})
        assert sorted(ours.options.pop("stamped_headers")) == sorted(
            celery_stamped.options.pop("stamped_headers")
        ), "Signature.stamp() names its stamps differently"
        assert ours.options == celery_stamped.options, "Signature.stamp() changed"


def test_function_tasks_have_celerys_argument_checker():
    import pytest

    from async_actions._celery_internals import argument_checker
    from tests.testapp import tasks

    checker = argument_checker(tasks.add)
    assert checker is not None, "Task.__header__ (Celery's argument check) is gone"
    checker(1, 2)
    with pytest.raises(TypeError):
        checker(1, 2, 3)
