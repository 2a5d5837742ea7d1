"""assert_workflow and workflow_shape on the canvas shapes start_action supports."""

import pytest
from celery import chain, chord, group

from async_actions.testing import assert_workflow, workflow_shape
from tests.testapp import tasks

T = "tests.testapp.tasks."


def test_shape_of_a_chain_with_a_group_and_a_chord():
    canvas = chain(
        tasks.noop.si(),
        group(tasks.add.si(1, 1), chain(tasks.timed.si("a"), tasks.timed.si("b"))),
        chord([tasks.add.si(2, 2), tasks.add.si(3, 3)], tasks.collect.s()),
    )

    assert workflow_shape(canvas) == [
        T + "noop",
        frozenset({T + "add", T + "timed"}),
        frozenset({T + "timed"}),  # the second task of the group's inner chain
        frozenset({T + "add"}),
        T + "collect",
    ]
    assert_workflow(canvas, [tasks.noop, {"add", "timed"}, {"timed"}, {"add"}, "collect"])


def test_a_set_is_not_a_single_task_and_names_must_match_whole_parts():
    with pytest.raises(AssertionError) as failure:
        assert_workflow(chain(tasks.add.si(1, 2), tasks.noop.si()), [{"add"}, "op"])

    assert str(failure.value).splitlines() == [
        "The workflow is not the expected one (> marks the differences):",
        "      #  expected  actual",
        f"  >   1  {{add}}     {T}add",
        f"  >   2  op        {T}noop",
    ]


def test_a_group_of_two_needs_two_names():
    with pytest.raises(AssertionError, match="> marks the differences"):
        assert_workflow(group(tasks.add.si(1, 1), tasks.noop.si()), [{"add"}])
