"""Run the benchmarks: ``python -m benchmarks [tracking|workflows] [options]`` (all by default).

They need the real services: PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import sys

from benchmarks.harness import setup_django

SUITES = ("tracking",)


def main() -> None:
    args = sys.argv[1:]
    suites = [args.pop(0)] if args and args[0] in SUITES else list(SUITES)
    setup_django()
    for suite in suites:
        module = __import__(f"benchmarks.{suite}", fromlist=["main"])
        module.main(args)


if __name__ == "__main__":
    main()
