"""The fault helpers themselves: each does what the fault tests rely on."""

import signal
import socket
import subprocess
import sys
import threading

import pytest

from async_actions.testing import wait_for
from async_actions.testing.faults import (
    RedisServer,
    TcpProxy,
    children,
    kill_children,
    signal_tree,
)


@pytest.fixture
def echo_server():
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=lambda c=conn: _echo(c), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def _echo(conn):
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def _roundtrip(sock, data=b"ping"):
    sock.sendall(data)
    return sock.recv(1024)


def test_the_proxy_forwards_drops_on_cut_and_refuses_until_restored(echo_server):
    with TcpProxy("127.0.0.1", echo_server) as proxy:
        before = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        assert _roundtrip(before) == b"ping"

        proxy.cut()
        assert before.recv(1024) == b""  # the open connection is closed
        during = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        assert during.recv(1024) == b""  # a new one is closed at once

        proxy.restore()
        after = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        assert _roundtrip(after) == b"ping"
        for sock in (before, during, after):
            sock.close()


def test_the_test_redis_stops_and_starts_on_the_same_port():
    import redis

    with RedisServer() as server:
        client = redis.Redis.from_url(server.url(3), socket_timeout=2, socket_connect_timeout=2)
        client.set("k", "v")
        server.stop()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        server.start()
        assert client.ping() is True
        assert client.get("k") is None  # no persistence: a restart loses everything


def _state(pid):
    return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]


def test_kill_children_and_signal_tree_reach_a_process_tree():
    script = (
        "import subprocess, sys, time\n"
        "kids = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])"
        " for _ in range(2)]\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert parent.stdout.readline() == b"ready\n"
        kids = children(parent.pid)
        assert len(kids) == 2

        signal_tree(parent.pid, signal.SIGSTOP)
        wait_for(lambda: all(_state(pid) == "T" for pid in (parent.pid, *kids)), timeout=5)
        signal_tree(parent.pid, signal.SIGCONT)

        assert kill_children(parent.pid) == kids
        assert parent.poll() is None  # the parent lives on
    finally:
        parent.kill()
        parent.wait(10)
