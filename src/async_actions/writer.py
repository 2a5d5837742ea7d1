"""The tracker's two forms of a move, built from its one definition in `moves`.

- **at once** (`apply`): one conditional ``UPDATE ... WHERE key = %s`` of one row;
- **batched** (`apply_many`): one ``UPDATE ... FROM (VALUES ...) RETURNING`` of many rows,
  each with its own values; on a database that cannot run it
  (`can_update_from_values` False) the same move is applied row by row.

Every statement runs in `_execute`, the single place where a write can be retried or kept
for later. After a write, the library's signals are sent for the reports that really
moved (once the write is committed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Model

from async_actions import signals
from async_actions.models import AsyncActionReport, Status
from async_actions.moves import REPORT_SIGNAL, Move, render

# Keeps one batched statement's parameter list bounded; a busy process flushes more often.
MAX_ROWS_PER_STATEMENT = 200


class MoveWriter:
    """Runs moves against the database the reports live in."""

    # -- what the database can do ------------------------------------------------------

    @cached_property
    def _alias(self) -> str:
        return router.db_for_write(AsyncActionReport)

    @property
    def _connection(self) -> Any:
        # Looked up each time: Django's connections are per thread (the buffer writes from its own).
        return connections[self._alias]

    @property
    def can_update_from_values(self) -> bool:
        """UPDATE ... FROM (VALUES ...): PostgreSQL, and SQLite 3.33+."""
        return self._vendor_at_least(sqlite=(3, 33, 0))

    @property
    def can_return_rows(self) -> bool:
        """UPDATE ... RETURNING, to know which rows reached which state: PostgreSQL, SQLite 3.35+.

        Without it a signal is sent for every row the statement touched.
        """
        return self._vendor_at_least(sqlite=(3, 35, 0))

    def _vendor_at_least(self, *, sqlite: tuple[int, int, int]) -> bool:
        vendor = self._connection.vendor
        if vendor == "postgresql":
            return True
        if vendor == "sqlite":
            import sqlite3

            return sqlite3.sqlite_version_info >= sqlite
        return False

    # -- the two forms -------------------------------------------------------------------

    def apply(self, move: Move, key: Any, **values: Any) -> bool:
        """Move one row (by its key) at once; whether it moved."""
        connection = self._connection
        returning = self.can_return_rows
        statement = self._compiled(move, "one", returning)
        params = statement.params({**values, _KEY: key}, connection)
        if not returning:
            moved = bool(self._execute(statement.head, params))
            if moved:
                self._after(move, key, values)
            return moved
        rows = self._execute(statement.head, params, returning=True)
        if rows and rows[0][0] == move.to:
            self._after(move, key, values)
        return bool(rows)

    def apply_many(self, move: Move, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """Move many rows, each with its own values (its key under ``"key"``); the keys moved."""
        if not rows:
            return []
        if not (self.can_update_from_values and self.can_return_rows):
            return [row["key"] for row in rows if self.apply(move, **row)]
        connection = self._connection
        statement = self._compiled(move, "many", True)
        names = ("key", *move.values)
        sql = statement.head + ", ".join([statement.row] * len(rows)) + statement.tail
        values = [_adapt(connection, row[name]) for row in rows for name in names]
        params = [*statement.head_params, *values, *statement.tail_params]
        if statement.keys_listed:
            params.append([row["key"] for row in rows])
        moved = self._execute(sql, params, returning=True)
        by_key = {row["key"]: row for row in rows}
        for moved_key, status in moved:
            if status == move.to:
                self._after(move, moved_key, by_key[moved_key])
        return [moved_key for moved_key, _ in moved]

    def _compiled(self, move: Move, form: str, returning: bool) -> _Statement:
        """A move's statement in one form, rendered once per database alias and kept."""
        cache_key = (move.name, move.model, self._alias, form, returning)
        statement = _statements.get(cache_key)
        if statement is None:
            statement = _statements[cache_key] = (
                self._render_one(move, returning) if form == "one" else self._render_many(move)
            )
        return statement

    def _render_one(self, move: Move, returning: bool) -> _Statement:
        """``UPDATE ... SET ... WHERE key = %s AND <may leave>``: one row."""
        table = self._quote(move.model._meta.db_table)

        def new(name: str) -> tuple[str, list[Any]]:
            return "%s", [_Value(name)]

        assignments, params = self._assignments(move, table, new)
        where, where_params = self._condition(move, table, new)
        sql = (
            f"UPDATE {table} SET {assignments} "  # noqa: S608 - only our own fragments
            f"WHERE {table}.{self._quote(move.key)} = %s AND {where}"
        )
        if returning:
            sql += f" RETURNING {table}.{self._quote('status')}"
        return _Statement(sql, tuple([*params, _Value(_KEY), *where_params]))

    def _render_many(self, move: Move) -> _Statement:
        """``UPDATE ... FROM (VALUES <rows>) ... RETURNING``: the text around its rows."""
        quote = self._quote
        table = quote(move.model._meta.db_table)
        names = ("key", *move.values)

        def new(name: str) -> tuple[str, list[Any]]:
            return f"v.{quote(name)}", []

        assignments, params = self._assignments(move, table, new)
        where, where_params = self._condition(move, table, new)
        columns = ", ".join(
            f"column{index} AS {quote(name)}" for index, name in enumerate(names, start=1)
        )
        key = f"{table}.{quote(move.key)}"
        # The keys once more, as one array: a condition on the table itself, which PostgreSQL
        # can plan without statistics (a join on the VALUES list it may plan as a scan of the
        # whole table for every row).
        keys_listed = f" AND {key} = ANY(%s)" if self._connection.vendor == "postgresql" else ""
        return _Statement(
            head=(
                f"UPDATE {table} SET {assignments} "  # noqa: S608 - only our own fragments
                f"FROM (SELECT {columns} FROM (VALUES "
            ),
            head_params=tuple(params),
            row="(" + ", ".join(["%s"] * len(names)) + ")",
            tail=(
                f") AS vals) AS v WHERE {key} = v.{quote('key')} AND {where}"
                f"{keys_listed} RETURNING {key}, {table}.{quote('status')}"
            ),
            tail_params=tuple(where_params),
            keys_listed=bool(keys_listed),
        )

    def _assignments(self, move: Move, table: str, new: Any) -> tuple[str, list[Any]]:
        parts, params = [], []
        for column, template in move.sets.items():
            sql, more = render(template, move, table=table, quote=self._quote, new=new)
            parts.append(f"{self._quote(column)} = {sql}")
            params.extend(more)
        return ", ".join(parts), params

    def _condition(self, move: Move, table: str, new: Any) -> tuple[str, list[Any]]:
        template = move.where + (f" AND {move.guard}" if move.guard else "")
        return render(template, move, table=table, quote=self._quote, new=new)

    def _quote(self, name: str) -> str:
        return str(self._connection.ops.quote_name(name))

    def _execute(self, sql: str, params: list[Any], *, returning: bool = False) -> Any:
        """The one place a status write runs: a row count, or the rows RETURNING gave."""
        with self._connection.cursor() as cursor:
            cursor.execute(sql, params)
            if returning:
                return cursor.fetchall()
            return cursor.rowcount

    def _after(self, move: Move, key: Any, values: dict[str, Any]) -> None:
        """Send the library's signal for a report that moved, once its write is committed."""
        kind = REPORT_SIGNAL.get(move.name)
        if kind is None:
            return
        signal = getattr(signals, f"report_{kind}")
        if not signal.has_listeners(AsyncActionReport):
            return
        extra: dict[str, Any] = {}
        if kind == "finished":
            extra["status"] = Status(move.to)
        elif kind == "retrying":
            extra["error"] = values.get("error", "")
        transaction.on_commit(
            partial(signal.send, sender=AsyncActionReport, report_id=key, **extra),
            using=self._alias,
        )


@dataclass(frozen=True)
class _Value:
    """Where an event's value goes in a statement's parameters (the rest are constants)."""

    name: str


_KEY = "__key__"  # the row's key, for the one-row form


@dataclass(frozen=True)
class _Statement:
    """A rendered move: `head` is the whole one-row statement; the batched one puts its
    rows (`row`, repeated) between `head` and `tail`."""

    head: str
    head_params: tuple[Any, ...]
    row: str = ""
    tail: str = ""
    tail_params: tuple[Any, ...] = ()
    keys_listed: bool = False  # the batched form takes every row's key as one last parameter

    def params(self, values: dict[str, Any], connection: Any) -> list[Any]:
        """The one-row form's parameters: its constants, with the event's values in place."""
        return [
            _adapt(connection, values[part.name]) if isinstance(part, _Value) else part
            for part in self.head_params
        ]


# (move name, model, database alias, form, returning) -> its statement. Rendering a move
# walks its templates; a worker's flush runs the same few moves over and over.
_statements: dict[tuple[str, type[Model], str, str, bool], _Statement] = {}


def _adapt(connection: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def chunks(rows: Sequence[dict[str, Any]]) -> list[Sequence[dict[str, Any]]]:
    return [
        rows[start : start + MAX_ROWS_PER_STATEMENT]
        for start in range(0, len(rows), MAX_ROWS_PER_STATEMENT)
    ]
