"""Real faults for tests: a cuttable TCP proxy, a Redis of the test's own, signals to workers.

Every helper bounds its own waits, so a fault test cannot hang the suite::

    with TcpProxy("127.0.0.1", 5432) as proxy:      # point the worker's database at proxy.port
        proxy.cut()                                 # every connection dropped, new ones refused
        proxy.restore()

    with RedisServer() as redis:                    # redis-server on a free port, no persistence
        redis.stop(); redis.start()

    kill_children(worker.process.pid)               # SIGKILL the prefork children (WorkerLostError)
    signal_tree(worker.process.pid, signal.SIGSTOP) # freeze the whole worker; SIGCONT to thaw
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Nothing listens on {host}:{port} after {timeout}s.") from None
            time.sleep(0.05)


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`; `cut()` drops every connection until `restore()`.

    While cut, new connections are accepted and closed at once, so a client fails fast
    (as with a database that restarts) instead of waiting for a TCP timeout.
    """

    def __init__(self, target_host: str, target_port: int, *, port: int = 0) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.port = int(self._listener.getsockname()[1])
        self._cut = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    @property
    def is_cut(self) -> bool:
        return self._cut.is_set()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self._cut.set()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self._closed.set()
        self.cut()
        _close(self._listener)
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with self._lock:
                    self._sockets.discard(sock)
                _close(sock)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class RedisServer:
    """``redis-server`` on a port of its own, no persistence: stop and start it at will."""

    def __init__(self, *, port: int | None = None, executable: str = "redis-server") -> None:
        found = shutil.which(executable)
        if found is None:
            raise RuntimeError(f"{executable!r} is not on PATH; install Redis to run this test.")
        self.executable = found
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 10.0) -> RedisServer:
        command = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(  # noqa: S603  (our own command line)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, timeout=timeout)
        return self

    def stop(self, *, kill: bool = False, timeout: float = 10.0) -> None:
        """Stop the server (SIGKILL with `kill`, else a clean SIGTERM)."""
        if self.process is not None:
            stop_process(self.process, signal.SIGKILL if kill else signal.SIGTERM, timeout)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(kill=True)


def stop_process(process: subprocess.Popen[bytes], signum: int, timeout: float) -> None:
    """Send `signum` and wait for the exit; SIGKILL what is still running after `timeout`."""
    if process.poll() is not None:
        return
    process.send_signal(signum)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses: the ppid follows the last ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def kill_children(pid: int, *, timeout: float = 10.0) -> list[int]:
    """SIGKILL the children of `pid` and wait until they are gone.

    Beware with a prefork pool: a child killed while idle may hold the pool's shared queue
    lock, and billiard then hangs. To kill the child running a task, kill the pid its
    report names (`report.worker` is "hostname:pid").
    """
    killed = children(pid)
    for child in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(_alive(child) for child in killed):
        if time.monotonic() > deadline:
            raise TimeoutError(f"Processes {killed} still alive {timeout}s after SIGKILL.")
        time.sleep(0.02)
    return killed


def signal_tree(pid: int, signum: int) -> list[int]:
    """Send `signum` to `pid` and its children (SIGSTOP/SIGCONT a worker, SIGKILL all of it)."""
    targets = [pid, *children(pid)]
    for target in targets:
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signum)
    return targets


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
