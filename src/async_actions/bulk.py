"""One UPDATE for many rows, each with its own values: ``UPDATE ... FROM (VALUES ...)``.

Django's ORM spells per-row values as CASE WHEN lists, whose compiling and evaluating
grow with the batch (about 0.3 ms a row here); a VALUES list joined on the key costs a
few microseconds a row. PostgreSQL and SQLite (3.33+) both run this statement; for other
databases `update_from_values` returns None and the caller uses the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db.models import Model

SUPPORTED_VENDORS = ("postgresql", "sqlite")


def update_from_values(
    model: type[Model],
    *,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    assignments: str,
    condition: str,
) -> int | None:
    """Update `model`'s rows whose `key` column matches a row's first value.

    `assignments` and `condition` are SQL in which ``{t}`` is the quoted table and
    ``v.<column>`` the row's value. Returns the number of rows updated, or None when the
    database cannot run this statement.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor not in SUPPORTED_VENDORS:
        return None
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    one_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    named = ", ".join(f"column{index} AS {name}" for index, name in enumerate(columns, start=1))
    # Only our own constant fragments are formatted in; every value is a parameter.
    sql = (
        f"UPDATE {table} SET {assignments.format(t=table)} "  # noqa: S608
        f"FROM (SELECT {named} FROM (VALUES {', '.join([one_row] * len(rows))}) AS vals) AS v "
        f"WHERE {table}.{key} = v.{key} AND {condition.format(t=table)}"
    )
    params = [_adapt(connection, value) for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _adapt(connection: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def sql_list(values: Sequence[str]) -> str:
    """A literal SQL list of our own constant strings (statuses), never of user input."""
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"
