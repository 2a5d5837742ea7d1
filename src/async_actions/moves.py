"""Every status move, defined once: which states it may leave and what it sets.

The tracker builds both of its forms from these definitions - one conditional UPDATE of
one row (``WHERE key = %s``) and one UPDATE of many rows joined on a VALUES list - so the
state machine cannot drift between them. Every move states in its WHERE clause which
states it may leave, so a late, duplicated or out-of-order event (a redelivered message,
a retry racing a success) matches no row and changes nothing.

Templates name the row's current columns ``{old.column}``, the event's values
``{new.value}``, the state the move sets ``{to}``, the states it may leave ``{leaving}``
and any other state ``{s.<value>}``. Every value and state becomes a query parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import models

from async_actions.models import (
    ACTIVE_STATUSES,
    STEP_ACTIVE_STATUSES,
    AsyncActionReport,
    AsyncActionStep,
    Status,
    StepStatus,
)

LEAVES_CONDITION = "{old.status} IN {leaving}"
# The larger of the stored and the event's attempt, in SQL both databases speak.
LATEST_ATTEMPT = (
    "CASE WHEN {old.attempts} > {new.attempt} THEN {old.attempts} ELSE {new.attempt} END"
)


# The row's latest attempt is this one, started on another worker process, which died or
# froze: the message was delivered again (acks_late), so this run is one more attempt. Told
# from the row alone, as not every transport flags a redelivery. Equal attempts only: a
# late start of an older attempt (the next one already started elsewhere) is no rerun.
# An event that names no worker (a success replayed from the broker by an older version)
# is never taken for a rerun.
RERUN = (
    "({old.attempts} = {new.attempt} AND {old.status} NOT IN ({s.pending}, {s.retrying}) "
    "AND {old.worker} <> '' AND {new.worker} <> '' AND {old.worker} <> {new.worker})"
)
# The worker process that ran it; an event that names none keeps the one recorded.
RAN_ON = "COALESCE(NULLIF({new.worker}, ''), {old.worker})"


@dataclass(frozen=True)
class Move:
    name: str
    model: type[models.Model]
    key: str  # the column an event names its row by
    leaves: tuple[str, ...]  # the states this move may leave
    to: str  # the state it sets
    values: tuple[str, ...]  # what each event gives, by name
    sets: dict[str, str]  # column -> SQL template
    # Extra condition beyond the states it may leave (stale attempts).
    guard: str = ""
    # Replaces "status IN leaving" for a move that may also touch a row it does not move.
    where: str = LEAVES_CONDITION
    # Final states whose row still takes this move's values, but keeps its state ({also}).
    also: tuple[str, ...] = ()
    states: type[models.TextChoices] = field(default=Status)


def _moves(
    model: type[models.Model],
    key: str,
    states: type[models.TextChoices],
    active: tuple[str, ...],
    retry_error_column: str,
    prefix: str,
) -> dict[str, Move]:
    def state(name: str) -> str:
        return str(states[name])

    def move(name: str, to: str, values: tuple[str, ...], sets: dict[str, str], **kw: Any) -> Move:
        return Move(
            f"{prefix}{name}",
            model,
            key,
            active,
            to,
            values,
            {"status": "{to}", **sets},
            states=states,
            **kw,
        )

    error = {
        "error_type": "{new.error_type}",
        "error_message": "{new.error_message}",
        "error_traceback": "{new.error_traceback}",
    }
    return {
        # A redelivered message (its worker was killed; acks_late) runs an attempt again:
        # started by another worker process, it counts as one more attempt. The same
        # worker writing the same start twice (a write retried) changes nothing.
        "start": move(
            "start",
            state("RUNNING"),
            ("attempt", "at", "worker", "redelivered"),
            {
                "attempts": "CASE WHEN ({new.redelivered} AND {old.attempts} >= {new.attempt}) "
                f"OR {RERUN} THEN {{old.attempts}} + 1 ELSE {{new.attempt}} END",
                "started_at": "COALESCE({old.started_at}, {new.at})",
                "worker": "{new.worker}",
            },
            guard="({old.attempts} < {new.attempt} OR ({new.redelivered} AND "
            f"{{old.worker}} <> {{new.worker}}) OR {RERUN})",
        ),
        # Celery publishes the retry before this event is handled, so later attempts may
        # already be running or finished: the state moves only if this attempt is still the
        # latest, and the error is kept only if no later attempt's error was.
        "retry": move(
            "retry",
            state("RETRYING"),
            ("attempt", "error"),
            {
                "status": "CASE WHEN {old.attempts} = {new.attempt} AND {old.status} IN "
                "{leaving} THEN {to} ELSE {old.status} END",
                retry_error_column: "{new.error}",
                "last_retry_attempt": "{new.attempt}",
            },
            guard="{old.last_retry_attempt} < {new.attempt}",
            # A finished row takes the error only if a later attempt really ran.
            where="({old.status} IN {leaving} OR {old.attempts} > {new.attempt})",
        ),
        # A success whose start was merged into it (write-behind) may be such a rerun.
        "succeed": move(
            "succeed",
            state("OK"),
            ("attempt", "started", "at", "worker"),
            {
                "finished_at": "{new.at}",
                "started_at": "COALESCE({old.started_at}, {new.started})",
                "attempts": f"CASE WHEN {RERUN} THEN {{old.attempts}} + 1 "
                f"ELSE {LATEST_ATTEMPT} END",
                # The write-behind buffer merges a start into its success (one statement,
                # not two): the success names the worker, as the start would have.
                "worker": RAN_ON,
            },
        ),
        # A failure reported by the worker's main process (WorkerLostError) may come before
        # the child's start was written: it still ran, once at least, from about then.
        "fail": move(
            "fail",
            state("FAILED"),
            ("at", "error_type", "error_message", "error_traceback"),
            {
                "finished_at": "{new.at}",
                "started_at": "COALESCE({old.started_at}, {new.at})",
                "attempts": "CASE WHEN {old.attempts} < 1 THEN 1 ELSE {old.attempts} END",
                **error,
            },
        ),
        "cancel": move(
            "cancel",
            state("CANCELLED"),
            ("at", "reason"),
            {"finished_at": "{new.at}", "error_message": "{new.reason}"},
        ),
    }


REPORT_MOVES = _moves(
    AsyncActionReport, "id", Status, ACTIVE_STATUSES, "last_retry_error", prefix=""
)
REPORT_MOVES["lose"] = Move(
    "lose",
    AsyncActionReport,
    "id",
    ACTIVE_STATUSES,
    Status.LOST,
    ("at", "reason"),
    {
        "status": "{to}",
        "finished_at": "{new.at}",
        "lost_at": "{new.at}",
        "error_message": "{new.reason}",
        # Its real outcome may still come: it stays where the reaper finds old reports.
        "not_before": "COALESCE({old.not_before}, {old.created_at})",
    },
)
# `lost` is the reaper's guess, not an outcome: the real outcome of the same task replaces
# it (a frozen worker resumed, a redelivered message ran), and `lost_at` stays as a trace.
# The reaper's explanation goes with the lost status; a failure writes its own error.
_FORGET_LOST = "CASE WHEN {old.status} = {s.lost} THEN '' ELSE {old.error_message} END"


def _revivable(move: Move) -> Move:
    sets = dict(move.sets)
    sets.setdefault("error_message", _FORGET_LOST)
    return replace(move, leaves=(*move.leaves, Status.LOST), sets=sets)


for _name in ("start", "retry", "succeed", "fail"):
    REPORT_MOVES[_name] = _revivable(REPORT_MOVES[_name])


def _sets_not_before(move: Move, moves_state: str) -> Move:
    """A retry says when the next attempt may run: the reaper waits LOST_AFTER past it.

    Only when the state moves (`moves_state`): a late event leaves the row as it is.
    """
    return replace(
        move,
        values=(*move.values, "not_before"),
        sets={
            **move.sets,
            "not_before": f"CASE WHEN {moves_state} THEN {{new.not_before}} "
            "ELSE {old.not_before} END",
        },
    )


def _clears_not_before(move: Move) -> Move:
    """A real outcome: the reaper need not find the report any more (async_actions.parking)."""
    return replace(move, sets={**move.sets, "not_before": "NULL"})


REPORT_MOVES["retry"] = _sets_not_before(
    REPORT_MOVES["retry"], "{old.attempts} = {new.attempt} AND {old.status} IN {leaving}"
)
for _name in ("succeed", "fail", "cancel"):
    REPORT_MOVES[_name] = _clears_not_before(REPORT_MOVES[_name])
STEP_MOVES = _moves(
    AsyncActionStep, "task_id", StepStatus, STEP_ACTIVE_STATUSES, "error_message", prefix="step_"
)

# What a step's move does to its workflow's report.
WORKFLOW_MOVES = {
    # The first step's start starts the action (and a later step's ends its retrying).
    "start": _revivable(
        Move(
            "workflow_start",
            AsyncActionReport,
            "id",
            (Status.PENDING, Status.RETRYING),
            Status.RUNNING,
            ("at",),
            {"status": "{to}", "started_at": "COALESCE({old.started_at}, {new.at})"},
        )
    ),
    # A step waits for its retry: the action shows it, naming the step. A workflow that
    # already went on and succeeded (the retry event is handled after the next attempt
    # ran, as Celery publishes the retry first) still takes the error.
    "retry": _sets_not_before(
        Move(
            "workflow_retry",
            AsyncActionReport,
            "id",
            ACTIVE_STATUSES,
            Status.RETRYING,
            ("error",),
            {
                "status": "CASE WHEN {old.status} = {s.running} THEN {to} ELSE {old.status} END",
                "last_retry_error": "{new.error}",
            },
            where="({old.status} IN {leaving} OR {old.status} IN {also})",
            also=(Status.OK,),
        ),
        "{old.status} IN {leaving}",
    ),
    # Every step is done.
    "complete": _revivable(
        Move(
            "workflow_complete",
            AsyncActionReport,
            "id",
            ACTIVE_STATUSES,
            Status.OK,
            ("at",),
            {"status": "{to}", "finished_at": "{new.at}", "not_before": "NULL"},
        )
    ),
}

ALL_MOVES: tuple[Move, ...] = (
    *REPORT_MOVES.values(),
    *STEP_MOVES.values(),
    *WORKFLOW_MOVES.values(),
)

# Which signal a report's move sends once written: started, retrying or finished.
REPORT_SIGNAL = {
    "start": "started",
    "workflow_start": "started",
    "retry": "retrying",
    "workflow_retry": "retrying",
    "succeed": "finished",
    "workflow_complete": "finished",
    "fail": "finished",
    "cancel": "finished",
    "lose": "finished",
}

_TOKEN = re.compile(r"\{(?:(old|new|s)\.(\w+)|(to|leaving|also))\}")


def render(
    template: str,
    move: Move,
    *,
    table: str,
    quote: Callable[[str], str],
    new: Callable[[str], tuple[str, list[Any]]],
) -> tuple[str, list[Any]]:
    """SQL and parameters (in text order) of one template of `move`.

    `new(name)` spells an event's value: ``%s`` with its parameter for one row, a column
    of the VALUES list for many.
    """
    params: list[Any] = []

    def one(match: re.Match[str]) -> str:
        kind, name, word = match.groups()
        if kind == "old":
            return f"{table}.{quote(name)}"
        if kind == "new":
            if name not in move.values:
                raise ValueError(f"Move {move.name!r} uses {{new.{name}}} but has no such value.")
            sql, more = new(name)
            params.extend(more)
            return sql
        if kind == "s":
            params.append(move.states(name).value)
            return "%s"
        if word == "to":
            params.append(move.to)
            return "%s"
        states = move.leaves if word == "leaving" else move.also
        params.extend(states)
        return "(" + ", ".join(["%s"] * len(states)) + ")"

    return _TOKEN.sub(one, template), params
