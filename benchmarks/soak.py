"""Soak: many actions through real faults; the reports must agree with what really happened.

    python -m benchmarks soak [--actions 5000] [--seed 10] [--cut-seconds 5] [--settle 120]

Two prefork workers (concurrency 2 each) run `soak_step` actions, about a third of which
fail and retry, some failing for good. Their database goes through a TCP proxy. At a third
of the work one worker is SIGKILLed whole (main process and children) and started again; at
two thirds the database is cut for `--cut-seconds`. The tasks write ground truth to Redis
(attempts started, final outcome), never to the report. At the end the table counts, per
action: lost (report `lost`, or never run), stuck (report still active), wrong status
(report final but not the outcome the task reached), counted twice (more attempts on the
report than really started) - all must be 0 - and how long after the last task finished
the last report became final (at most `--settle` seconds are waited for).

Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379. Database AA_SOAK_PG_NAME
(default aa_soak), Redis AA_SOAK_REDIS_URL (default redis://127.0.0.1:6379/10).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import ROOT, print_table

ENV = {
    "AA_BENCH_PG_NAME": os.environ.get("AA_SOAK_PG_NAME", "aa_soak"),
    "AA_BENCH_REDIS_URL": os.environ.get("AA_SOAK_REDIS_URL", "redis://127.0.0.1:6379/10"),
    "AA_BENCH_QUEUE": "aa-soak",
    "AA_BENCH_RELIABLE": "1",
}
IN_ALL = False  # minutes long: only when asked for by name
DRAIN_TIMEOUT = 300.0


class SoakWorker:
    """One prefork worker in a process group of its own, so SIGKILL can take all of it."""

    def __init__(self, name: str, pg_port: int) -> None:
        self.name = name
        self.env = {**os.environ, "AA_BENCH_PG_PORT": str(pg_port)}
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"aa-soak-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "celery", "-A", "benchmarks.celery_app", "worker"]
        command += ["-P", "prefork", "-c", "2", "-n", f"{self.name}@%h", "-l", "WARNING"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603  (our own command line)
                command, env=self.env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
            )

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool children at once."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)


def _plan(actions: int, seed: int) -> list[tuple[int, int, bool, float]]:
    """(index, failures before the last attempt, fails for good, sleep) for each action."""
    rng = random.Random(seed)
    plan = []
    for index in range(actions):
        failures = rng.choice((0, 0, 0, 0, 1, 1, 2)) if rng.random() < 0.5 else 0
        plan.append((index, failures, rng.random() < 0.1, rng.choice((0.0, 0.001, 0.01, 0.05))))
    return plan


def _reset() -> None:
    from async_actions.models import AsyncActionReport
    from benchmarks.benchapp.tasks import SOAK_ATTEMPTS, SOAK_LAST, SOAK_OUTCOME
    from benchmarks.celery_app import app
    from benchmarks.clock import client

    app.control.purge()
    client().delete(SOAK_ATTEMPTS, SOAK_OUTCOME, SOAK_LAST)
    AsyncActionReport.objects.all().delete()


def _outcomes() -> int:
    from benchmarks.benchapp.tasks import SOAK_OUTCOME
    from benchmarks.clock import client

    return int(client().hlen(SOAK_OUTCOME))


def _wait_for_outcomes(count: int, timeout: float, stall: float = 60.0) -> None:
    """Until `count` tasks reached their outcome, or none did for `stall` seconds."""
    deadline = time.monotonic() + timeout
    last, last_change = _outcomes(), time.monotonic()
    while last < count:
        now = time.monotonic()
        if now > deadline or now - last_change > stall:
            return
        time.sleep(0.1)
        seen = _outcomes()
        if seen != last:
            last, last_change = seen, now


def run(actions: int, seed: int, cut_seconds: float, settle: float) -> None:
    from async_actions import start_action
    from async_actions.models import ACTIVE_STATUSES, AsyncActionReport
    from async_actions.testing.faults import TcpProxy
    from benchmarks.benchapp.tasks import soak_step

    _reset()
    plan = _plan(actions, seed)
    with TcpProxy("127.0.0.1", 5432) as proxy:
        workers = [SoakWorker("soak-a", proxy.port), SoakWorker("soak-b", proxy.port)]
        for worker in workers:
            worker.start()
        try:
            started = time.monotonic()
            report_ids = {}
            for index, failures, fails_finally, sleep in plan:
                signature = soak_step.s(index, failures, fails_finally, sleep)
                report_ids[index] = start_action("soak", signature).pk
            print(f"started {actions} actions in {time.monotonic() - started:.1f}s", flush=True)

            _wait_for_outcomes(actions // 3, DRAIN_TIMEOUT)
            print(f"{_outcomes()} outcomes: SIGKILL worker soak-a (whole)", flush=True)
            workers[0].kill()
            time.sleep(1)
            workers[0].start()

            _wait_for_outcomes(2 * actions // 3, DRAIN_TIMEOUT)
            print(f"{_outcomes()} outcomes: database cut for {cut_seconds:g}s", flush=True)
            proxy.cut()
            time.sleep(cut_seconds)
            proxy.restore()

            _wait_for_outcomes(actions, DRAIN_TIMEOUT)
            print(f"{_outcomes()} outcomes: waiting for the reports", flush=True)
            deadline = time.monotonic() + settle
            while AsyncActionReport.objects.filter(status__in=ACTIVE_STATUSES).exists():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            all_final_at = time.time()
        finally:
            for worker in workers:
                worker.stop()
    _print_counts(report_ids, all_final_at, actions, seed, cut_seconds)


def _print_counts(
    report_ids: dict[int, int], all_final_at: float, actions: int, seed: int, cut: float
) -> None:
    from async_actions.models import ACTIVE_STATUSES, AsyncActionReport, Status
    from benchmarks.benchapp.tasks import SOAK_ATTEMPTS, SOAK_LAST, SOAK_OUTCOME
    from benchmarks.clock import client

    redis = client()
    attempts = {int(k): int(v) for k, v in redis.hgetall(SOAK_ATTEMPTS).items()}
    outcomes = {int(k): v.decode() for k, v in redis.hgetall(SOAK_OUTCOME).items()}
    last_finish = float(redis.get(SOAK_LAST) or all_final_at)
    reports = AsyncActionReport.objects.in_bulk(list(report_ids.values()))
    counts = {"lost": 0, "stuck": 0, "wrong status": 0, "counted twice": 0}
    examples: dict[str, list[str]] = {name: [] for name in counts}
    for index, report_id in report_ids.items():
        report = reports[report_id]
        truth = outcomes.get(index)
        if report.status in ACTIVE_STATUSES:
            problem = "stuck"
        elif report.status == Status.LOST or truth is None:
            problem = "lost"
        elif report.status != truth:
            problem = "wrong status"
        elif report.attempts > attempts.get(index, 0):
            problem = "counted twice"
        else:
            continue
        counts[problem] += 1
        examples[problem].append(
            f"#{report_id} {report.status} attempts={report.attempts} truth={truth} "
            f"started={attempts.get(index, 0)}"
        )
    rows = [(name, str(count)) for name, count in counts.items()]
    rows.append(("last report final after last task", f"{all_final_at - last_finish:.2f} s"))
    print_table(
        f"soak: {actions} actions (seed {seed}), 2 workers prefork -c 2, one SIGKILLed whole "
        f"and restarted, database cut {cut:g} s; Redis + PostgreSQL",
        ("count", "value"),
        rows,
    )
    for name, found in examples.items():
        if found:
            print(f"  {name}, e.g.: " + "; ".join(found[:3]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks soak")
    parser.add_argument("--actions", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--cut-seconds", type=float, default=5.0)
    parser.add_argument("--settle", type=float, default=120.0)
    args = parser.parse_args(argv)
    run(args.actions, args.seed, args.cut_seconds, args.settle)
