"""Smoke test: `python -m example.run_demo` as a user runs it, driven over real HTTP.

The demo runs on its own var/ directory and queue; on PostgreSQL it uses the test database.
It starts its own fake InvoicesPlus (with the demo's default misbehaviour), not the tests' one.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from django.db import connection

from async_actions.testing import wait_for
from example.run_demo import first_free_port
from example.tests.browser import Browser

REPO_ROOT = Path(__file__).resolve().parents[2]


class RunningDemo:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, "-m", "example.run_demo", "--port", str(port)],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def find(self, pattern: str) -> re.Match[str] | None:
        return re.search(pattern, self.output())

    def child_pids(self) -> dict[str, int]:
        return {name: int(pid) for name, pid in re.findall(r"^started (\w+) \(pid (\d+)\)$",
                                                           self.output(), re.MULTILINE)}


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def demo(tmp_path):
    env = dict(os.environ)
    env["EXAMPLE_VAR_DIR"] = str(tmp_path / "var")
    env["EXAMPLE_QUEUE"] = f"example-smoke-{uuid.uuid4().hex[:8]}"
    env["DJANGO_SETTINGS_MODULE"] = "example.settings"
    if connection.vendor == "postgresql":
        # The test database pytest-django made; flushed after the test like any other.
        env["AA_PG_NAME"] = connection.settings_dict["NAME"]
    # Ask for a port that is taken: the demo must say so and move to the next free one.
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", first_free_port("127.0.0.1", 8600)))
    taken.listen()
    running = RunningDemo(env, taken.getsockname()[1])
    try:
        wait_for(lambda: running.find(r"The demo is running") or running.process.poll() is not None,
                 timeout=90, what="the demo to start")
        assert running.process.poll() is None, running.output()[-3000:]
        yield running
    finally:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGINT)
            try:
                running.process.wait(60)
            except subprocess.TimeoutExpired:
                running.process.kill()
        taken.close()


@pytest.mark.django_db(transaction=True)
def test_the_demo_serves_runs_an_action_and_stops_cleanly_on_ctrl_c(demo):
    moved = demo.find(rf"Port {demo.port} is taken; using (\d+) instead\.")
    assert moved, demo.output()[-3000:]
    url = demo.find(r"The demo is running: (\S+)").group(1)
    username, password = demo.find(r"Log in as:\s+(\S+) / (\S+)").groups()
    assert url == f"http://127.0.0.1:{moved.group(1)}/"

    browser = Browser(url)
    browser.login(username, password)
    dashboard = browser.get("/")  # the demo opens on the dashboard, its scenarios a click away
    assert browser.url.endswith("/actions/") and 'href="/demo/"' in dashboard
    home = browser.get("/demo/")
    sync_url = re.search(r'action="(/invoices/accounts/\d+/sync/)"', home).group(1)
    token = re.search(r'name="idempotency_token" value="(\w+)"', home).group(1)
    browser.post_form("/demo/", sync_url, {"idempotency_token": token})
    report_id = int(re.search(r"report=(\d+)", browser.url).group(1))
    finished = wait_for(
        lambda: (s := browser.get_json(f"/reports/{report_id}.json"))["finished"] and s,
        timeout=90, what="the sync to finish",
    )
    assert finished["status"] == "ok", finished
    assert finished["action"] == "Sync invoices"
    assert "ACME-2026-0001" in browser.get("/demo/")  # the stored invoices are listed
    assert re.search(r"api \| GET /v1/accounts/acme/invoices\?page=1 -> 200", demo.output())

    pids = demo.child_pids()
    assert set(pids) == {"api", "worker", "web", "beat"}, demo.output()[-3000:]
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(60) == 0, demo.output()[-3000:]
    assert "All demo processes stopped." in demo.output()
    for name, pid in pids.items():
        assert wait_for(lambda pid=pid: not group_alive(pid), timeout=10, what=f"{name} to exit")


def test_first_free_port_skips_a_listening_socket():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert first_free_port("127.0.0.1", port) > port
