"""PostgreSQL leaves room on the pages of reports and steps, so a move updates its row in
place (a HOT update, which writes no index) - migration 0012."""

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from async_actions import AsyncActionReport, AsyncActionStep
from async_actions.moves import REPORT_MOVES
from async_actions.tracker import Tracker

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="fillfactor is a PostgreSQL storage parameter",
    ),
]


def _updates(table: str) -> tuple[int, int]:
    """This transaction's UPDATEs of `table` so far: all of them, and the HOT ones."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [table],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


@pytest.mark.parametrize("model", [AsyncActionReport, AsyncActionStep])
def test_the_tables_leave_half_of_each_new_page_free(model):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [model._meta.db_table])
        assert cursor.fetchone()[0] == ["fillfactor=50"]


def test_a_batch_of_starts_updates_each_new_report_in_place():
    """Reports inserted one after another, then moved in one batched UPDATE: with pages
    packed full (PostgreSQL's default) 1 of these 60 moves was HOT, with room 55 (a page's
    last rows can still find it full: their old versions are not pruned within this one
    transaction)."""
    reports = [
        AsyncActionReport.objects.create(action=f"Report {i}", task_name="x", task_id=f"t{i}")
        for i in range(60)
    ]
    table = AsyncActionReport._meta.db_table
    updates, hot = _updates(table)
    now = timezone.now()

    moved = Tracker().apply_many(
        REPORT_MOVES["start"],
        [
            {"key": r.pk, "attempt": 1, "at": now, "worker": "w@host", "redelivered": False}
            for r in reports
        ],
    )

    assert sorted(moved) == sorted(r.pk for r in reports)
    after_updates, after_hot = _updates(table)
    assert after_updates - updates == 60
    assert after_hot - hot >= 50
