"""@chainable and the walking of canvases: no worker needed."""

import pytest
from celery import Celery, chain, chord, group

from async_actions import (
    AsyncActionReport,
    AsyncActionStep,
    InvalidActionError,
    NotChainableError,
    chainable,
    start_action,
)
from async_actions.canvas import leaves
from tests.testapp import tasks


@chainable
def fetch_and_store(account_id: int):
    return tasks.add.s(account_id, 1), tasks.add.s(2)


@chainable
def nested():
    return (fetch_and_store(1), [tasks.noop.si(), (tasks.noop.si(),)]), chain(
        tasks.add.si(1, 1), tasks.add.s(1)
    )


def test_chainable_returns_a_flat_tuple_of_signatures():
    result = fetch_and_store(7)

    assert isinstance(result, tuple)
    assert [sig.task for sig in result] == ["tests.testapp.tasks.add"] * 2
    assert result[0].args == (7, 1)


def test_chainables_compose_nested_tuples_and_chains_in_order():
    result = nested()

    assert [s.task.rsplit(".", 1)[-1] for s in result] == [
        "add",
        "add",
        "noop",
        "noop",
        "add",
        "add",
    ]


def test_chainable_calls_the_function_once():
    calls = []

    @chainable
    def counted():
        calls.append(1)
        return (tasks.noop.si(),)

    counted()

    assert calls == [1]


def test_chainable_keeps_the_name_and_doc():
    assert fetch_and_store.__name__ == "fetch_and_store"
    assert fetch_and_store.__wrapped__.__name__ == "fetch_and_store"


@pytest.mark.parametrize(
    ("returned", "shown"),
    [
        (None, "got NoneType: None"),
        ("tests.testapp.tasks.noop", "got str"),
        (42, "got int: 42"),
        ({"task": "x"}, "got dict"),
        ((tasks.noop.si(), "oops"), "got str: 'oops'"),
        ([tasks.noop.si(), [tasks.noop]], "a task, not a signature: call .s() or .si()"),
    ],
)
def test_a_bad_return_names_the_function_and_the_item(returned, shown):
    @chainable
    def broken():
        return returned

    with pytest.raises(NotChainableError) as caught:
        broken()

    message = str(caught.value)
    assert (
        "test_canvas.test_a_bad_return_names_the_function_and_the_item.<locals>.broken" in message
    )
    assert shown in message
    assert isinstance(caught.value, TypeError)


def test_leaves_of_a_nested_canvas_have_positions_and_branches():
    canvas = chain(
        tasks.noop.si(),
        group(tasks.noop.si(), chain(tasks.noop.si(), tasks.noop.si())),
        chord([tasks.noop.si(), group(tasks.noop.si(), tasks.noop.si())], tasks.noop.si()),
    )

    assert [(step.position, step.branch) for step in leaves(canvas)] == [
        (0, ""),
        (1, "0"),
        (1, "1"),
        (2, "1"),
        (3, "0"),
        (3, "1.0"),
        (3, "1.1"),
        (4, ""),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("canvas_factory", "message"),
    [
        (lambda: chain(tasks.noop.si(), tasks.add.s(object(), 1)), "cannot be encoded"),
        (lambda: group(tasks.noop.si(), "not a signature"), "Task 2 of the workflow is not a"),
        (lambda: chain(), "empty workflow"),
        (lambda: group([]), "empty workflow"),
    ],
)
def test_a_bad_canvas_records_nothing(canvas_factory, message):
    with pytest.raises((InvalidActionError, TypeError), match=message):
        start_action("Bad canvas", canvas_factory())

    assert AsyncActionReport.objects.count() == 0
    assert AsyncActionStep.objects.count() == 0


@pytest.mark.django_db
def test_a_chord_without_a_result_backend_is_refused_clearly():
    app = Celery("no-backend", broker="memory://", set_as_current=False)

    @app.task(name="nb.noop")
    def nb_noop():
        return None

    with pytest.raises(InvalidActionError, match="requires a result backend"):
        start_action("Chord", chord([nb_noop.si(), nb_noop.si()], nb_noop.si()))
    assert AsyncActionReport.objects.count() == 0
