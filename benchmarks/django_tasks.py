"""django.tasks' .enqueue() on the CeleryBackend vs start_action vs plain .delay().

    python -m benchmarks django_tasks [--tasks 1000] [--rounds 3]

Each round runs every variant, interleaved, three ways:
- caller: N calls in a row, no worker (what a request pays per call);
- worker: one prefork worker (concurrency 2) drains those N prefilled messages;
- end to end: the worker is up first, the caller sends N, timed from the first send to the
  last finish (caller and worker share the machine's cores, as in production).
The table shows medians, and ratios to plain .delay().
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from benchmarks.harness import (
    Worker,
    median,
    print_table,
    purge_queue,
    time_calls,
    wait_until_done,
    worker_seconds,
)


def _variants() -> dict[str, tuple[Callable[[], object], Callable[[], int]]]:
    """name -> (send one no-op task, how many of them the database shows finished)."""
    from async_actions import start_action
    from async_actions.models import AsyncActionReport, Status
    from benchmarks.benchapp import dtasks
    from benchmarks.benchapp.tasks import noop

    def finished() -> int:
        return AsyncActionReport.objects.filter(status=Status.OK).count()

    return {
        "plain .delay()": (noop.delay, lambda: 0),
        "start_action (tracked)": (lambda: start_action("bench", noop.s()), finished),
        "django.tasks .enqueue()": (dtasks.noop.enqueue, finished),
    }


def _reset() -> None:
    from async_actions.models import AsyncActionReport
    from benchmarks import clock

    purge_queue()
    AsyncActionReport.objects.all().delete()
    clock.reset()


def _end_to_end(send: Callable[[], object], tasks: int) -> float:
    """Seconds from the first send to the last finish, with a worker already consuming."""
    from benchmarks import clock

    with Worker():
        send()  # the worker is ready once it has run this one
        wait_until_done(1, timeout=120)
        clock.reset()
        started = time.time()
        for _ in range(tasks):
            send()
        wait_until_done(tasks, timeout=600)
        return float(clock.client().get(clock.LAST)) - started


def run(tasks: int, rounds: int) -> None:
    variants = _variants()
    caller: dict[str, list[float]] = {name: [] for name in variants}
    worker: dict[str, list[float]] = {name: [] for name in variants}
    e2e: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(1, rounds + 1):
        for name, (send, recorded) in variants.items():
            _reset()
            caller[name].append(time_calls(send, tasks))
            with Worker():
                wait_until_done(tasks, timeout=600)
                worker[name].append(tasks / worker_seconds())
            _reset()
            e2e[name].append(tasks / _end_to_end(send, tasks))
            print(
                f"round {round_number} {name}: caller {caller[name][-1] * 1e6:.0f} us/call, "
                f"worker {worker[name][-1]:.0f}/s, end to end {e2e[name][-1]:.0f}/s, "
                f"{recorded()} recorded",
                flush=True,
            )

    plain = next(iter(variants))
    rows = []
    for name in variants:
        cost, rate, through = median(caller[name]), median(worker[name]), median(e2e[name])
        rows.append(
            (
                name,
                f"{cost * 1e6:.0f}",
                f"{cost / median(caller[plain]):.2f}x",
                f"{rate:.0f}",
                f"{rate / median(worker[plain]):.2f}x",
                f"{through:.0f}",
                f"{through / median(e2e[plain]):.2f}x",
            )
        )
    print_table(
        f"{tasks} no-op tasks, 1 worker prefork -c 2, Redis + PostgreSQL, median of {rounds}",
        (
            "variant",
            "caller us/call",
            "vs .delay()",
            "worker tasks/s",
            "vs .delay()",
            "end-to-end tasks/s",
            "vs .delay()",
        ),
        rows,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks django_tasks")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    run(args.tasks, args.rounds)
