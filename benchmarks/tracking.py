"""Tracked vs plain vs django-celery-results: throughput of no-op tasks and caller cost.

    python -m benchmarks tracking [--tasks 3000] [--rounds 3]

Each round fills the queue with N tasks (timing the caller), then starts one prefork worker
(concurrency 2) and times first start -> last finish on the worker. Variants run
interleaved, round after round; the table shows medians and ratios to plain.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from benchmarks.harness import (
    Worker,
    median,
    print_table,
    purge_queue,
    ratio_range,
    time_calls,
    wait_until_done,
    worker_seconds,
)

Variant = tuple[Callable[[], object], dict[str, str], Callable[[], int]]


def _variants() -> dict[str, Variant]:
    """name -> (send one task, worker environment, how many tasks left a database record)."""
    from django_celery_results.models import TaskResult

    from async_actions import start_action
    from async_actions.models import AsyncActionReport, Status
    from benchmarks.benchapp.tasks import noop, noop_with_result

    return {
        "plain .delay(), no result backend": (noop.delay, {}, lambda: 0),
        "start_action (tracked)": (
            lambda: start_action("bench", noop.s()),
            {},
            lambda: AsyncActionReport.objects.filter(status=Status.OK).count(),
        ),
        "django-celery-results (django-db)": (
            noop_with_result.delay,
            {"AA_BENCH_RESULT_BACKEND": "django-db"},
            lambda: TaskResult.objects.filter(status="SUCCESS").count(),
        ),
        # docs/reliability.md's settings: with acks_late each success is written before the
        # task returns (durable before its ack), one statement per task instead of batched.
        "plain .delay(), acks_late": (noop.delay, {"AA_BENCH_RELIABLE": "1"}, lambda: 0),
        "start_action, acks_late": (
            lambda: start_action("bench", noop.s()),
            {"AA_BENCH_RELIABLE": "1"},
            lambda: AsyncActionReport.objects.filter(status=Status.OK).count(),
        ),
    }


def _reset_tables() -> None:
    from django_celery_results.models import TaskResult

    from async_actions.models import AsyncActionReport

    AsyncActionReport.objects.all().delete()
    TaskResult.objects.all().delete()


def run(tasks: int, rounds: int) -> None:
    from benchmarks import clock

    variants = _variants()
    throughput: dict[str, list[float]] = {name: [] for name in variants}
    caller: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(1, rounds + 1):
        for name, (send, env, recorded) in variants.items():
            purge_queue()
            _reset_tables()
            clock.reset()
            caller[name].append(time_calls(send, tasks))
            with Worker(env=env):
                wait_until_done(tasks, timeout=600)
                seconds = worker_seconds()
            throughput[name].append(tasks / seconds)
            print(
                f"round {round_number} {name}: {tasks / seconds:.0f} tasks/s, {recorded()} records",
                flush=True,
            )

    plain = next(iter(variants))
    rows = []
    for name in variants:
        rate, cost = median(throughput[name]), median(caller[name])
        rows.append(
            (
                name,
                f"{rate:.0f}",
                f"{rate / median(throughput[plain]):.2f}x",
                ratio_range(throughput[name], throughput[plain]),
                f"{cost * 1e6:.0f}",
                f"{cost / median(caller[plain]):.2f}x",
            )
        )
    print_table(
        f"{tasks} no-op tasks, 1 worker prefork -c 2, Redis + PostgreSQL, median of {rounds}",
        ("variant", "tasks/s", "vs plain", "rounds", "caller us/call", "vs .delay()"),
        rows,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks tracking")
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    run(args.tasks, args.rounds)
