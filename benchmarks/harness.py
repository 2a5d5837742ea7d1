"""Shared pieces of the benchmarks: a fresh database, a worker subprocess, the clock."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    _create_database(os.environ.get("AA_BENCH_PG_NAME", "aa_bench"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Like a project's proj/__init__.py: the app must exist before any shared_task is used,
    # or the tasks bind to Celery's default app (and its default broker).
    import benchmarks.celery_app  # noqa: F401


def _create_database(name: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def purge_queue() -> None:
    from benchmarks.celery_app import app

    app.control.purge()


class _Process:
    """A subprocess a benchmark runs beside itself, stopped on exit; its output in a log."""

    log_name = ""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / self.log_name

    def command(self) -> list[str]:
        raise NotImplementedError

    def __enter__(self) -> Self:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(), env=self.env, cwd=ROOT, stdout=log, stderr=log
            )
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Worker(_Process):
    """A prefork worker, concurrency 2, started on a queue already filled."""

    log_name = "aa-bench-worker.log"

    def __init__(self, *, env: dict[str, str] | None = None, concurrency: int = 2) -> None:
        super().__init__(env)
        self.concurrency = concurrency

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "benchmarks.celery_app",
            "worker",
            "-P",
            "prefork",
            "-c",
            str(self.concurrency),
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]


class Relay(_Process):
    """`async_actions_relay --follow` in a process of its own (PUBLISH = "relay")."""

    log_name = "aa-bench-relay.log"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "benchmarks.relay_main"]


def wait_until_done(expected: int, timeout: float) -> None:
    """Return once the worker has finished `expected` tasks since the clock's reset."""
    from benchmarks import clock

    redis = clock.client()
    deadline = time.monotonic() + timeout
    while int(redis.get(clock.DONE) or 0) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"only {int(redis.get(clock.DONE) or 0)} of {expected} tasks ran in {timeout}s"
            )
        time.sleep(0.01)


def worker_seconds() -> float:
    """From the first task's start (in a fresh worker) to the latest finish."""
    from benchmarks import clock

    redis = clock.client()
    return float(redis.get(clock.LAST)) - float(redis.get(clock.FIRST))


def time_calls(call: Callable[[], object], count: int) -> float:
    """Mean seconds per call of `call`, made `count` times in a row."""
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count


def median(values: list[float]) -> float:
    return statistics.median(values)


def ratio_range(values: list[float], base: list[float]) -> str:
    """The lowest and highest of the rounds' own ratios: how much the machine moved them."""
    ratios = [value / of for value, of in zip(values, base, strict=True)]
    return f"{min(ratios):.2f}-{max(ratios):.2f}"


def print_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    for row in (header, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
