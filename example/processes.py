"""The demo's child processes: each in a session of its own, output prefixed, stopped as a group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path


class Child:
    def __init__(self, name: str, command: list[str], *, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.cwd = cwd
        self.process: subprocess.Popen[str] | None = None
        self.recent: deque[str] = deque(maxlen=200)
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Child:
        # A session of its own: Ctrl-C in the terminal reaches only the launcher, which then
        # stops each child's whole process group (a worker's pool processes included).
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=self.cwd, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True,
        )
        threading.Thread(target=self._pump, daemon=True, name=f"pump-{self.name}").start()
        return self

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.recent.append(line.rstrip("\n"))
            sys.stdout.write(f"{self.name:>7} | {line}")
            sys.stdout.flush()

    def saw(self, text: str) -> bool:
        with self._lock:
            return any(text in line for line in self.recent)

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def wait_for_output(self, text: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.saw(text):
            if self.exited() is not None:
                raise RuntimeError(f"{self.name} exited ({self.exited()}) while starting.")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not print {text!r} within {timeout:.0f}s.")
            time.sleep(0.1)

    def stop(self, *, timeout: float = 20.0) -> None:
        """SIGTERM to the child (a Celery worker's warm shutdown stops its own pool), then
        SIGKILL to whatever is left of its process group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
            _wait_group_gone(self.process.pid, timeout=5.0)
        except (subprocess.TimeoutExpired, TimeoutError):
            print(f"{self.name} did not stop within {timeout:.0f}s; killing it.", flush=True)
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()


def _wait_group_gone(pgid: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise TimeoutError(f"process group {pgid} still has members")
