"""The relay a benchmark runs beside its worker: ``python -m benchmarks.relay_main``.

The project's own command, `async_actions_relay --follow`, on the benchmark's settings;
SIGTERM stops it.
"""

from __future__ import annotations


def main() -> None:
    from benchmarks.harness import setup_django

    setup_django()
    from django.core.management import call_command

    call_command("async_actions_relay", follow=True)


if __name__ == "__main__":
    main()
