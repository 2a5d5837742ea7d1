"""A real Celery worker in a subprocess, started and stopped by tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from async_actions.testing.faults import stop_process
from async_actions.testing.worker_main import DB_NAMES_VARIABLE, QUEUE_VARIABLE


class WorkerProcess:
    """``celery worker`` for `app` ("module:attribute") on `queue` and the test databases."""

    def __init__(
        self,
        app: str,
        *,
        queue: str,
        db_names: dict[str, str],
        name: str = "worker",
        pool: str = "prefork",
        concurrency: int = 2,
        loglevel: str = "INFO",
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.app = app
        self.queue = queue
        self.db_names = db_names
        self.name = name
        self.pool = pool
        self.concurrency = concurrency
        self.loglevel = loglevel
        self.extra_args = extra_args
        self.env = env or {}
        self.log_path = Path(tempfile.mkstemp(prefix=f"aa-{name}-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def hostname(self) -> str:
        return f"{self.name}@{self.queue}"

    def start(self, timeout: float = 60.0) -> WorkerProcess:
        env = {**os.environ, **self.env}
        env[DB_NAMES_VARIABLE] = json.dumps(self.db_names)
        env[QUEUE_VARIABLE] = self.queue
        command = [
            sys.executable,
            "-m",
            "async_actions.testing.worker_main",
            self.app,
            "worker",
            "-P",
            self.pool,
            "-c",
            str(self.concurrency),
            "-Q",
            self.queue,
            "-n",
            self.hostname,
            "-l",
            self.loglevel,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *self.extra_args,
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603  (our own command line)
                command, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while " ready." not in self.log():
            if self.process.poll() is not None:
                raise RuntimeError(f"Worker {self.name} exited at start:\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"Worker {self.name} not ready after {timeout}s:\n{self.log()[-4000:]}"
                )
            time.sleep(0.1)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is not None:  # SIGTERM: a warm shutdown, running tasks finish
            stop_process(self.process, signal.SIGTERM, timeout)

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
