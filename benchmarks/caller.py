"""The caller's cost of one start: start_action vs the hand-written INSERT + .delay().

    python -m benchmarks caller [--calls 1000] [--rounds 5]

No worker runs (the queue is purged after each round); what is timed is the caller alone,
with no transaction open (autocommit) and inside the caller's own transaction.atomic()
(one per call, as a view with ATOMIC_REQUESTS has). The PUBLISH=relay rows are what such a
start costs its caller: the INSERT keeps the message, which a relay (not run here) sends.
Variants interleave round after round;
the table shows the median wall and CPU (time.process_time) per call, and the ratio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import nullcontext

from benchmarks.harness import median, print_table, purge_queue

RELAY = "PUBLISH=relay"
RELAY_SETTINGS = {"PUBLISH": "relay"}


def _variants() -> dict[str, Callable[[], object]]:
    from django.db import transaction

    from async_actions import start_action
    from async_actions.models import AsyncActionReport
    from benchmarks.benchapp.tasks import noop

    def hand_written() -> None:
        AsyncActionReport.objects.create(action="bench")
        noop.delay()

    def tracked() -> None:
        start_action("bench", noop.s())


    def in_atomic(call: Callable[[], None]) -> Callable[[], None]:
        def wrapped() -> None:
            with transaction.atomic():
                call()

        return wrapped

    return {
        "autocommit: create() + .delay()": hand_written,
        "autocommit: start_action": tracked,
        f"autocommit: start_action, {RELAY}": tracked,
        "atomic(): create() + .delay()": in_atomic(hand_written),
        "atomic(): start_action": in_atomic(tracked),
        f"atomic(): start_action, {RELAY}": in_atomic(tracked),
    }


def run(calls: int, rounds: int) -> None:
    from django.test import override_settings

    from async_actions.models import AsyncActionReport

    variants = _variants()
    walls: dict[str, list[float]] = {name: [] for name in variants}
    cpus: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, call in variants.items():
            # PUBLISH=relay: the start's INSERT keeps the message; no relay runs here.
            relayed = name.endswith(RELAY)
            with override_settings(ASYNC_ACTIONS=RELAY_SETTINGS) if relayed else nullcontext():
                started, cpu = time.perf_counter(), time.process_time()
                for _ in range(calls):
                    call()
            walls[name].append((time.perf_counter() - started) / calls)
            cpus[name].append((time.process_time() - cpu) / calls)
            purge_queue()
            AsyncActionReport.objects.all().delete()
    rows = []
    for name in variants:
        # Each start vs the hand-written pattern in the same transaction mode.
        base = f"{name.split(':')[0]}: create() + .delay()"
        rows.append(
            (
                name,
                f"{median(walls[name]) * 1e3:.3f}",
                f"{median(cpus[name]) * 1e3:.3f}",
                f"{median(walls[name]) / median(walls[base]):.2f}x",
                f"{median(cpus[name]) / median(cpus[base]):.2f}x",
            )
        )
    print_table(
        f"Caller cost of one single-task start, {calls} calls, median of {rounds} rounds "
        "(Redis broker, PostgreSQL)",
        ("variant", "wall ms/call", "CPU ms/call", "wall vs hand", "CPU vs hand"),
        rows,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks caller")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    run(args.calls, args.rounds)
