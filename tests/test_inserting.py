"""The compiled INSERT of a start writes the row Django's save() writes."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.signals import post_save

from async_actions.inserting import insert_many, insert_report, insert_values, new_report
from async_actions.models import AsyncActionReport, AsyncActionStep
from async_actions.services import ActionSpec, _prepare
from tests.testapp import tasks

pytestmark = pytest.mark.django_db

# Made anew for every report, so never equal between two.
_OWN = {"id", "public_id", "created_at"}


def _row(report):
    return {
        field.attname: value
        for field in AsyncActionReport._meta.concrete_fields
        if field.attname not in _OWN
        for value in [getattr(AsyncActionReport.objects.get(pk=report.pk), field.attname)]
    }


def _fields():
    user = get_user_model().objects.create(username="ada")
    return _prepare(
        ActionSpec("Compiled", tasks.add.s(1, 2).set(countdown=30), triggered_by=user)
    ).fields


def test_the_compiled_insert_writes_what_save_writes():
    fields = _fields()
    saved = AsyncActionReport(**fields)
    saved.save(force_insert=True)
    inserted = new_report(fields)
    insert_report(inserted, connection.alias, given=fields)

    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding and inserted._state.db == connection.alias
    assert _row(inserted) == _row(saved)
    assert inserted.public_id != saved.public_id
    assert AsyncActionReport.objects.get(pk=inserted.pk).public_id == inserted.public_id


def test_many_rows_in_batches_write_what_save_writes_each_with_its_own_id():
    fields = _fields()
    saved = AsyncActionReport(**fields)
    saved.save(force_insert=True)
    # More rows than one statement may carry (SQLite: 999 parameters, 27 rows of 36).
    size = connection.ops.bulk_batch_size(list(AsyncActionReport._meta.concrete_fields), [])
    count = 2 * min(size, 30) + 1
    reports = [new_report({**fields, "action": f"Row {i}"}) for i in range(count)]

    insert_many(reports, connection.alias, given=fields)

    assert len({report.pk for report in reports}) == count
    for index, report in enumerate(reports):
        assert not report._state.adding and report._state.db == connection.alias
        assert _row(report) == {**_row(saved), "action": f"Row {index}"}  # its own row
    assert AsyncActionReport.objects.count() == count + 1


def test_steps_go_in_as_bulk_create_writes_them():
    report = AsyncActionReport.objects.create(action="Steps")
    made = {"report": report, "task_name": "tests.add", "branch": "0"}
    created = AsyncActionStep.objects.bulk_create(
        [AsyncActionStep(**made, task_id="t0", position=0)]
    )
    steps = [AsyncActionStep(**made, task_id=f"t{p}", position=p) for p in (1, 2)]

    insert_many(steps, connection.alias, given=[*made, "task_id", "position"])

    assert [step.pk for step in steps] == sorted({step.pk for step in steps}) and all(
        step.pk != created[0].pk for step in steps
    )
    rows = AsyncActionStep.objects.filter(report=report).order_by("position").values()
    expected = [
        {**rows[0], "id": step.pk, "task_id": f"t{position}", "position": position}
        for step, position in zip(steps, (1, 2), strict=True)
    ]
    assert list(rows[1:]) == expected


def test_step_values_go_in_as_bulk_create_writes_them_in_batches():
    report = AsyncActionReport.objects.create(action="Steps")
    made = {"task_name": "tests.add", "branch": "0"}
    [created] = AsyncActionStep.objects.bulk_create(
        [AsyncActionStep(report=report, **made, task_id="t0", position=0)]
    )
    # More rows than one SQLite statement may carry (999 parameters, 62 rows of 16).
    count = 150

    insert_values(
        AsyncActionStep,
        connection.alias,
        [
            {"report": report.pk, "task_id": f"t{p}", **made, "position": p}
            for p in range(1, count + 1)
        ],
    )

    rows = list(AsyncActionStep.objects.filter(report=report).order_by("position").values())
    assert len(rows) == count + 1 and len({row["id"] for row in rows}) == count + 1
    assert [row["position"] for row in rows] == list(range(count + 1))
    made_by_bulk_create = {key: value for key, value in rows[0].items() if key != "id"}
    for row in rows[1:]:
        assert {key: value for key, value in row.items() if key != "id"} == {
            **made_by_bulk_create,
            "task_id": f"t{row['position']}",
            "position": row["position"],
        }
    assert rows[0]["id"] == created.pk


def test_a_new_report_is_the_one_keywords_make_and_knows_its_user():
    fields = _fields()
    positional, keywords = new_report(fields), AsyncActionReport(**fields)
    for field in AsyncActionReport._meta.concrete_fields:
        if field.attname not in _OWN:
            assert getattr(positional, field.attname) == getattr(keywords, field.attname), field
    with django_assert_no_queries():
        assert positional.triggered_by == fields["triggered_by"]


def test_with_a_post_save_receiver_the_report_is_saved_by_django_and_the_receiver_runs():
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.pk, created))

    post_save.connect(receiver, sender=AsyncActionReport)
    try:
        fields = _fields()
        report = new_report(fields)
        insert_report(report, connection.alias, given=fields)
    finally:
        post_save.disconnect(receiver, sender=AsyncActionReport)
    assert seen == [(report.pk, True)]


def django_assert_no_queries():
    from django.test.utils import CaptureQueriesContext

    class _NoQueries(CaptureQueriesContext):
        def __exit__(self, *exc):
            super().__exit__(*exc)
            assert not self.captured_queries, self.captured_queries

    return _NoQueries(connection)
