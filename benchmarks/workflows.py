"""Tracked vs untracked workflows: a 50-step chain and a 500-member chord.

    python -m benchmarks workflows [--rounds 5]

One prefork worker (concurrency 2) runs throughout, with a Redis result backend (chords
need one). Each measurement sends one canvas and times send -> last task finished; the
variants alternate round after round and the table shows medians and ratios.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from benchmarks.harness import Worker, median, print_table, purge_queue, wait_until_done

# Run in a process of its own with these settings (see benchmarks/__main__.py).
# (AA_BENCH_RESULT_REDIS_URL picks another Redis database, e.g. beside other runs.)
ENV = {
    "AA_BENCH_RESULT_BACKEND": os.environ.get(
        "AA_BENCH_RESULT_REDIS_URL", "redis://127.0.0.1:6379/6"
    )
}


def _canvases() -> dict[str, tuple[Callable[[], object], int]]:
    from celery import chain, chord

    from benchmarks.benchapp.tasks import noop_with_result, summary

    return {
        "50-step chain": (lambda: chain(noop_with_result.si() for _ in range(50)), 50),
        "500-member chord": (
            lambda: chord((noop_with_result.si() for _ in range(500)), summary.s()),
            501,
        ),
    }


def _measure(send: Callable[[], object], tasks: int) -> float:
    from benchmarks import clock

    clock.reset()
    started = time.time()
    send()
    wait_until_done(tasks, timeout=300)
    return float(clock.client().get(clock.LAST)) - started


def _check_reports(expected: int) -> None:
    from async_actions.models import AsyncActionReport, Status

    deadline = time.monotonic() + 30
    while AsyncActionReport.objects.filter(status=Status.OK).count() < expected:
        if time.monotonic() > deadline:
            raise SystemExit("tracked workflows did not all end ok: the figures are invalid")
        time.sleep(0.1)


def run(rounds: int) -> None:
    from async_actions import start_action
    from async_actions.models import AsyncActionReport

    purge_queue()
    AsyncActionReport.objects.all().delete()
    seconds: dict[str, list[float]] = {}
    tracked_runs = 0
    with Worker():
        _measure(lambda: _canvases()["50-step chain"][0]().apply_async(), 50)  # warm up
        for round_number in range(1, rounds + 1):
            for name, (build, tasks) in _canvases().items():
                plain = _measure(lambda build=build: build().apply_async(), tasks)
                tracked = _measure(lambda build=build: start_action("bench", build()), tasks)
                tracked_runs += 1
                seconds.setdefault(f"{name} untracked", []).append(plain)
                seconds.setdefault(f"{name} tracked", []).append(tracked)
                print(
                    f"round {round_number} {name}: untracked {plain:.3f}s, tracked {tracked:.3f}s",
                    flush=True,
                )
        _check_reports(tracked_runs)

    rows = []
    for name, (_, tasks) in _canvases().items():
        plain, tracked = median(seconds[f"{name} untracked"]), median(seconds[f"{name} tracked"])
        rows.append(
            (name, f"{tasks / plain:.0f}", f"{tasks / tracked:.0f}", f"{plain / tracked:.2f}x")
        )
    print_table(
        f"Workflows, 1 worker prefork -c 2, Redis broker + result backend, PostgreSQL, "
        f"median of {rounds}",
        ("canvas", "untracked tasks/s", "tracked tasks/s", "tracked vs untracked"),
        rows,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks workflows")
    parser.add_argument("--rounds", type=int, default=5)
    run(parser.parse_args(argv).rounds)
