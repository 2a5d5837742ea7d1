"""An idempotency key means the same action: reused for another one, it is a conflict."""

import pytest
from celery import chain

from async_actions import (
    AsyncActionReport,
    IdempotencyConflictError,
    InvalidActionError,
    start_action,
)
from tests.testapp import tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_key_and_action_returns_the_existing_report():
    first = start_action("Sum", chain(tasks.add.s(1, 2), tasks.add.s(3)), idempotency_key="k1")
    again = start_action("Sum", chain(tasks.add.s(1, 2), tasks.add.s(3)), idempotency_key="k1")

    assert again.pk == first.pk
    assert len(first.fingerprint) == 64


@pytest.mark.parametrize(
    ("action", "signature_factory", "what"),
    [
        ("Other name", lambda: tasks.add.s(1, 2), "different action name"),
        ("Sum", lambda: tasks.add.s(1, 3), "different tasks or arguments"),
        ("Sum", lambda: tasks.add.s(x=1, y=2), "different tasks or arguments"),
        ("Sum", lambda: chain(tasks.add.s(1, 2), tasks.noop.si()), "different tasks"),
    ],
)
def test_a_key_reused_for_a_different_action_is_a_conflict(action, signature_factory, what):
    first = start_action("Sum", tasks.add.s(1, 2), idempotency_key="sum-1")

    with pytest.raises(IdempotencyConflictError, match=what) as raised:
        start_action(action, signature_factory(), idempotency_key="sum-1")

    assert raised.value.key == "sum-1" and raised.value.report_id == first.pk
    assert f"report {first.pk}" in str(raised.value) and "'sum-1'" in str(raised.value)
    assert isinstance(raised.value, InvalidActionError)
    assert AsyncActionReport.objects.count() == 1


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("nul\x00byte", "must not contain a NUL byte"),
        ("k" * 256, "256 characters long; the limit is 255"),
        ("", "non-empty string"),
        (42, "non-empty string or None, got 42"),
    ],
)
def test_bad_keys_are_refused_before_anything_is_recorded(key, message):
    with pytest.raises(InvalidActionError, match=message):
        start_action("Keyed", tasks.noop.s(), idempotency_key=key)

    assert AsyncActionReport.objects.count() == 0


def test_start_actions_refuses_a_reused_key_for_another_action_and_records_nothing():
    from async_actions.services import ActionSpec, start_actions

    first = start_action("Sum", tasks.add.s(1, 2), idempotency_key="bulk-1")

    with pytest.raises(IdempotencyConflictError, match=f"report {first.pk}"):
        start_actions(
            [
                ActionSpec("Fresh", tasks.noop.s(), idempotency_key="bulk-2"),
                ActionSpec("Sum", tasks.add.s(5, 5), idempotency_key="bulk-1"),
            ]
        )
    again = start_actions([ActionSpec("Sum", tasks.add.s(1, 2), idempotency_key="bulk-1")])

    assert [r.pk for r in again] == [first.pk]
    assert AsyncActionReport.objects.count() == 1
