"""start_action checks that every task's arguments fit, the way Celery will call it."""

import pytest
from celery import chain, chord, group

from async_actions import AsyncActionReport, InvalidActionError, start_action
from tests.testapp import tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("signature_factory", "message"),
    [
        (lambda: tasks.add.s(1), r"'tests.testapp.tasks.add' do not fit.*missing 1 required.*'y'"),
        (lambda: tasks.add.s(1, 2, 3), "takes 2 positional arguments but 3 were given"),
        (lambda: tasks.add.s(1, y=2, z=2), "unexpected keyword argument 'z'"),
        (lambda: tasks.create_marker.s(), "missing 1 required positional argument: 'name'"),
        # In a chain the next task gets the previous result first: add.s(1, 2) gets 3 args.
        (lambda: chain(tasks.noop.s(), tasks.add.s(1, 2)), "the previous task's result"),
        (lambda: chain(tasks.noop.s(), group(tasks.noop.s(), tasks.noop.s())), "but 1 was given"),
        (lambda: chord([tasks.add.s(1, 2)], tasks.noop.s()), "but 1 was given"),
        (lambda: group(tasks.add.s(1, 2), tasks.add.s(1)), "missing 1 required"),
    ],
)
def test_arguments_that_do_not_fit_are_refused_before_anything_is_recorded(
    signature_factory, message
):
    with pytest.raises(InvalidActionError, match=message):
        start_action("Mismatch", signature_factory())

    assert AsyncActionReport.objects.count() == 0


@pytest.mark.parametrize(
    "signature_factory",
    [
        lambda: tasks.add.s(1, 2),
        lambda: tasks.add.s(x=1, y=2),
        lambda: tasks.create_marker.s("bound task: self is not a parameter"),
        # Partials: each later task gets the previous result as its first argument.
        lambda: chain(tasks.add.s(1, 2), tasks.add.s(3), tasks.add.s(y=4)),
        lambda: chain(tasks.add.s(1, 2), tasks.noop.si()),  # immutable: no result passed
        lambda: chain(tasks.add.s(1, 2), group(tasks.add.s(1), tasks.add.s(2))),
        lambda: chord([tasks.add.s(1, 2), tasks.add.s(3, 4)], tasks.collect.s()),
        lambda: chain(tasks.noop.si(), chord([tasks.noop.si()], tasks.collect.s())),
    ],
)
def test_arguments_that_fit_are_accepted(signature_factory):
    report = start_action("Fits", signature_factory())

    assert AsyncActionReport.objects.filter(pk=report.pk).exists()
