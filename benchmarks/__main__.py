"""Run the benchmarks: ``python -m benchmarks [SUITE] [options]``; SUITES lists them.

With no suite name, all of them run but the soak (minutes of injected faults: ask for it).

endtoend, caller, tracking, workflows, django_tasks and dashboard need the real services:
PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379; lint needs nothing. Each suite
runs in a process of its own, with the settings it declares in ``ENV``. soak needs them
too (see benchmarks/soak.py).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

SUITES = {
    "endtoend": "endtoend",
    "caller": "caller",
    "tracking": "tracking",
    "workflows": "workflows",
    "lint": "lint_bench",
    "soak": "soak",
    "dashboard": "dashboard",
    "django_tasks": "django_tasks",
}


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] in SUITES:
        _run_suite(args[0], args[1:])
        return
    for suite in SUITES:
        module = importlib.import_module(f"benchmarks.{SUITES[suite]}")
        if not getattr(module, "IN_ALL", True):
            continue
        env = {**os.environ, **getattr(module, "ENV", {})}
        subprocess.run([sys.executable, "-m", "benchmarks", suite, *args], env=env, check=True)


def _run_suite(suite: str, args: list[str]) -> None:
    module = importlib.import_module(f"benchmarks.{SUITES[suite]}")
    missing = {k: v for k, v in getattr(module, "ENV", {}).items() if os.environ.get(k) != v}
    if missing:  # started directly: re-run with the suite's settings
        os.execve(
            sys.executable,
            [sys.executable, "-m", "benchmarks", suite, *args],
            {**os.environ, **missing},
        )
    if getattr(module, "USES_DJANGO", True):
        from benchmarks.harness import setup_django

        setup_django()
    module.main(args)


if __name__ == "__main__":
    main()
