"""`make demo`: prepare the database, start the demo's processes, stop them all on Ctrl-C.

    python -m example.run_demo [--port 8000]

Runs on the embedded defaults (SQLite + kombu's filesystem broker under var/) unless
AA_DATABASE / AA_BROKER say otherwise (see the README). No prompts: safe to run unattended.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

from example.bootstrap import Credentials
from example.processes import Child

REPO_ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "example.settings"


class Stop(Exception):
    """Ctrl-C (SIGINT) or SIGTERM."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop()


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        # SO_REUSEADDR, like the servers: only a listening socket makes the port taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def first_free_port(host: str, wanted: int, *, tries: int = 100) -> int:
    for port in range(wanted, wanted + tries):
        if port_is_free(host, port):
            return port
    raise SystemExit(f"No free port in {wanted}-{wanted + tries - 1} on {host}.")


def child_env(settings: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


# The fake API misbehaves a little by default, so the demo shows retries; FAKE_INVOICESPLUS_*
# variables (or POST /_control on the fake) change that.
FAKE_API_DEFAULTS = {
    "FAKE_INVOICESPLUS_LATENCY": "0.2",
    "FAKE_INVOICESPLUS_FAILURE_RATE": "0.2",
    "FAKE_INVOICESPLUS_RATE_LIMIT_RATE": "0.1",
    "FAKE_INVOICESPLUS_RETRY_AFTER": "2",
}


def build_children(
    *, host: str, port: int, api_port: int, env: dict[str, str], var_dir: Path
) -> list[Child]:
    """In start order: what others call first; stopped in reverse."""
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "example.celery:app"]
    return [
        Child("api", [python, "-m", "example.invoicesplus_fake", "--host", host,
                      "--port", str(api_port)], env={**FAKE_API_DEFAULTS, **env}, cwd=REPO_ROOT),
        Child("worker", [*celery, "worker", "-l", "INFO", "-c", "2"], env=env, cwd=REPO_ROOT),
        Child("web", [python, "-m", "django", "runserver", f"{host}:{port}", "--noreload"],
              env=env, cwd=REPO_ROOT),
        Child("beat", [*celery, "beat", "-l", "INFO", "-s", str(var_dir / "celerybeat-schedule")],
              env=env, cwd=REPO_ROOT),
    ]


def wait_for_http(url: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f}s.") from None
            time.sleep(0.2)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="or the next free one")
    parser.add_argument("--api-port", type=int, default=8100,
                        help="the fake InvoicesPlus API's port, or the next free one")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    env = child_env(os.environ["DJANGO_SETTINGS_MODULE"])
    port = first_free_port(args.host, args.port)
    if port != args.port:
        print(f"Port {args.port} is taken; using {port} instead.", flush=True)
    api_port = first_free_port(args.host, args.api_port)
    if api_port == port:  # both asked for the same free port
        api_port = first_free_port(args.host, port + 1)

    from django.conf import settings

    from example import bootstrap

    print(f"Preparing the database ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
          f"broker {settings.CELERY_BROKER_URL.split(':', 1)[0]}) ...", flush=True)
    credentials = bootstrap.prepare(var_dir=Path(settings.VAR_DIR))
    # Every child talks to the fake we start, with the key the settings hold (never on a
    # command line, where `ps` would show it).
    env["INVOICES_PLUS_URL"] = f"http://{args.host}:{api_port}"
    env["INVOICES_PLUS_API_KEY"] = settings.INVOICES_PLUS_API_KEY

    # Installed explicitly: a shell starts background jobs with SIGINT ignored.
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    children = build_children(
        host=args.host, port=port, api_port=api_port, env=env, var_dir=Path(settings.VAR_DIR)
    )
    by_name = {child.name: child for child in children}
    url = f"http://{args.host}:{port}/"
    try:
        for child in children:
            child.start()
            print(f"started {child.name} (pid {child.pid})", flush=True)
        by_name["api"].wait_for_output("listening on", timeout=30)
        by_name["worker"].wait_for_output(" ready.", timeout=60)
        by_name["beat"].wait_for_output("beat: Starting", timeout=60)
        wait_for_http(f"{url}admin/login/", timeout=60)
        print_banner(url, env["INVOICES_PLUS_URL"], credentials)
        while True:
            for child in children:
                if child.exited() is not None:
                    print(f"{child.name} exited unexpectedly (status {child.exited()}); "
                          f"stopping the demo.", flush=True)
                    return 1
            time.sleep(0.5)
    except Stop:
        print("\nStopping ...", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"The demo could not start: {exc}", flush=True)
        return 1
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in reversed(children):
            child.stop()
        print("All demo processes stopped.", flush=True)


def print_banner(url: str, api_url: str, credentials: Credentials) -> None:
    line = "=" * 72
    print(f"\n{line}\n  The demo is running: {url}\n"
          f"  Log in as:  {credentials.username} / {credentials.password}\n"
          f"  Dashboard:  {url}actions/  (the demo's scenarios: {url}demo/)\n"
          f"  Admin:      {url}admin/async_actions/asyncactionreport/\n"
          f"  Fake API:   {api_url}  (knobs: GET/POST {api_url}/_control)\n"
          f"  Stop:       Ctrl-C\n{line}\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
