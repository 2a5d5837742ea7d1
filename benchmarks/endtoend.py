"""End to end: the caller and the worker at once, as a user runs them.

    python -m benchmarks endtoend [--tasks 3000] [--rounds 3] [--batch 100]

Each round starts one prefork worker (concurrency 2), waits until it runs a warm-up task,
then the caller (this process) starts N no-op single-task actions in a loop while the
worker consumes them. Throughput is N / (first call -> last task finished); the caller's
wall and CPU time (time.process_time) per action are measured in the same loop. Variants
run interleaved, round after round; the table shows medians and ratios to plain .delay().
Redis broker, PostgreSQL, CONN_MAX_AGE=60 for every variant.

Where the CPU goes (Linux, from /proc): the worker's processes per task, PostgreSQL's and
Redis's per action. The variant after start_action's sends plain .delay() at the rate
start_action reached in the same round: the worker's CPU per task depends on how fast tasks
arrive, so that row shows what tracking itself costs the worker at the same rate.

The last two variants are references, not ways to start an action: each INSERTs one row in
autocommit (its own commit, as start_action's) before a plain .delay() that no worker
tracks. "bare row" writes two columns of a table with no other index: the least any
durable record before the publish costs. "report row" writes start_action's own INSERT (a
whole report): between the two is what the report's row costs; between "report row" and
start_action is what the rest costs (checks, stamp, tracking in the worker).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from benchmarks import cpu
from benchmarks.harness import (
    Relay,
    Worker,
    median,
    print_table,
    purge_queue,
    ratio_range,
    wait_until_done,
)

# Send `tasks` actions; (name -> (send all, worker environment, records that say ok)).
Variant = tuple[Callable[[int, int], None], dict[str, str], Callable[[], int]]

TRACKED = "start_action"
RELAYED = "start_action, PUBLISH=relay (+ the relay)"
PACED = "plain .delay(), at start_action's rate"
BARE_TABLE = "aa_bench_bare_row"


def _variants(pace: dict[str, float]) -> dict[str, Variant]:
    from django.db import connection
    from django.test import override_settings
    from django_celery_results.models import TaskResult

    from async_actions import ActionSpec, start_action, start_actions
    from async_actions.inserting import insert_report, new_report
    from async_actions.models import AsyncActionReport, Status
    from benchmarks.benchapp.tasks import noop, noop_with_result, talk_noop

    def plain(count: int, batch: int) -> None:
        for _ in range(count):
            noop.delay()

    def talk(count: int, batch: int) -> None:
        for _ in range(count):
            report = AsyncActionReport.objects.create(action="bench")
            talk_noop.delay(async_action_report_id=report.pk)

    def results(count: int, batch: int) -> None:
        for _ in range(count):
            noop_with_result.delay()

    def tracked(count: int, batch: int) -> None:
        for _ in range(count):
            start_action("bench", noop.s())

    def relayed(count: int, batch: int) -> None:
        with override_settings(ASYNC_ACTIONS={"PUBLISH": "relay"}):
            tracked(count, batch)

    def tracked_bulk(count: int, batch: int) -> None:
        for start in range(0, count, batch):
            start_actions(ActionSpec("bench", noop.s()) for _ in range(min(batch, count - start)))

    def paced(count: int, batch: int) -> None:
        interval, due = 1 / pace[TRACKED], time.perf_counter()
        for _ in range(count):
            noop.delay()
            due += interval
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)

    def bare_row(count: int, batch: int) -> None:
        for _ in range(count):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {BARE_TABLE} (action) VALUES (%s) RETURNING id",  # noqa: S608
                    ["bench"],
                )
                cursor.fetchone()
            noop.delay()

    def report_row(count: int, batch: int) -> None:
        fields = {"action": "bench", "task_name": noop.name}
        for _ in range(count):
            insert_report(new_report(fields), "default", given=fields)
            noop.delay()

    def reports_ok() -> int:
        return AsyncActionReport.objects.filter(status=Status.OK).count()

    return {
        "plain .delay(), no result backend": (plain, {}, lambda: 0),
        "talk's pattern (INSERT + .delay() + hooks)": (talk, {}, reports_ok),
        "django-celery-results (django-db)": (
            results,
            {"AA_BENCH_RESULT_BACKEND": "django-db"},
            lambda: TaskResult.objects.filter(status="SUCCESS").count(),
        ),
        TRACKED: (tracked, {}, reports_ok),
        RELAYED: (relayed, {}, reports_ok),
        "start_actions (batches)": (tracked_bulk, {}, reports_ok),
        PACED: (paced, {}, lambda: 0),
        "reference: bare row INSERT + .delay()": (bare_row, {}, lambda: 0),
        "reference: report row INSERT + .delay()": (report_row, {}, lambda: 0),
    }


def _relay_for(name: str, env: dict[str, str]) -> AbstractContextManager[Relay | None]:
    """The relay process a variant needs (PUBLISH = "relay"), else nothing."""
    return Relay(env=env) if name == RELAYED else nullcontext()


def _reset_tables() -> None:
    from django.db import connection
    from django_celery_results.models import TaskResult

    from async_actions.models import AsyncActionReport

    AsyncActionReport.objects.all().delete()
    TaskResult.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
        cursor.execute(f"CREATE TABLE {BARE_TABLE} (id bigserial PRIMARY KEY, action text)")


def _warm_up(relayed: Callable[[int, int], None] | None) -> None:
    """Return once the worker has run a task, then zero the clock.

    `relayed`: the variant's own start, so that its relay is running too.
    """
    from benchmarks import clock
    from benchmarks.benchapp.tasks import noop

    clock.reset()
    if relayed is None:
        noop.delay()
    else:
        relayed(1, 1)
    wait_until_done(1, timeout=120)
    clock.reset()


def _seconds(worker: Worker, relay: Relay | None) -> dict[str, float | None]:
    assert worker.process is not None
    found = cpu.snapshot(worker.process.pid, "postgres", "redis-server")
    seconds = {
        "worker": found["tree"],
        "postgres": found["postgres"],
        "redis": found["redis-server"],
        "relay": None,
    }
    if relay is not None:
        assert relay.process is not None
        seconds["relay"] = cpu.snapshot(relay.process.pid)["tree"]
    return seconds


def _per_action(after: float | None, before: float | None, tasks: int) -> float | None:
    return None if after is None or before is None else (after - before) / tasks


def _ms(values: list[float | None]) -> str:
    known = [value for value in values if value is not None]
    return f"{median(known) * 1e3:.2f}" if known else "n/a"


def run(tasks: int, rounds: int, batch: int) -> None:
    from benchmarks import clock

    pace: dict[str, float] = {}
    variants = _variants(pace)
    rates: dict[str, list[float]] = {name: [] for name in variants}
    walls: dict[str, list[float]] = {name: [] for name in variants}
    cpus: dict[str, list[float]] = {name: [] for name in variants}
    used: dict[str, dict[str, list[float | None]]] = {
        name: {"worker": [], "postgres": [], "redis": [], "relay": []} for name in variants
    }
    for round_number in range(1, rounds + 1):
        for name, (send, env, recorded) in variants.items():
            purge_queue()
            _reset_tables()
            with Worker(env=env) as worker, _relay_for(name, env) as relay:
                _warm_up(send if name == RELAYED else None)
                before = _seconds(worker, relay)
                started, caller_cpu = time.time(), time.process_time()
                send(tasks, batch)
                walls[name].append((time.time() - started) / tasks)
                cpus[name].append((time.process_time() - caller_cpu) / tasks)
                wait_until_done(tasks, timeout=600)
                seconds = float(clock.client().get(clock.LAST)) - started
                after = _seconds(worker, relay)
            for part in used[name]:
                used[name][part].append(_per_action(after[part], before[part], tasks))
            rates[name].append(tasks / seconds)
            if name == TRACKED:
                pace[TRACKED] = tasks / seconds
            print(
                f"round {round_number} {name}: {tasks / seconds:.0f} actions/s end to end, "
                f"{recorded()} records ok",
                flush=True,
            )

    plain_rates = rates[next(iter(variants))]
    plain = median(plain_rates)
    rows = [
        (
            name,
            f"{median(rates[name]):.0f}",
            f"{median(rates[name]) / plain:.2f}x",
            ratio_range(rates[name], plain_rates),
            f"{median(walls[name]) * 1e3:.2f}",
            f"{median(cpus[name]) * 1e3:.2f}",
            _ms(used[name]["worker"]),
            _ms(used[name]["postgres"]),
            _ms(used[name]["redis"]),
            _ms(used[name]["relay"]) if name == RELAYED else "-",
        )
        for name in variants
    ]
    print_table(
        f"End to end: {tasks} no-op actions, caller + 1 worker prefork -c 2 at once, "
        f"Redis + PostgreSQL, median of {rounds} (start_actions: batches of {batch})",
        (
            "variant",
            "actions/s",
            "vs plain",
            "rounds",
            "caller ms/call",
            "caller CPU ms/call",
            "worker CPU ms/task",
            "PostgreSQL CPU ms",
            "Redis CPU ms",
            "relay CPU ms",
        ),
        rows,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks endtoend")
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args(argv)
    run(args.tasks, args.rounds, args.batch)
