"""`manage.py async_actions_lint PATH...`: the linter, from a Django project.

It only reads source files, so it needs no database and imports no models.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

# Options manage.py accepts for every command; the linter has no use for them.
_DJANGO_FLAGS = ("--traceback", "--no-color", "--force-color", "--skip-checks")
_DJANGO_VALUED = ("--settings", "--pythonpath", "-v", "--verbosity")


def _lint_args(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _DJANGO_FLAGS or ("=" in arg and arg.split("=", 1)[0] in _DJANGO_VALUED):
            continue
        elif arg in _DJANGO_VALUED:
            skip = True
        else:
            out.append(arg)
    return out


class Command(BaseCommand):
    help = "Find Celery anti-patterns (AA101-AA108) in Python files; see docs/lint.md."
    requires_system_checks: list[str] = []  # reading files needs no app registry checks

    def run_from_argv(self, argv: list[str]) -> None:
        # The linter owns its command line (--format, --select, ...): hand it over whole.
        from async_actions.lint.cli import main

        sys.exit(main(_lint_args(argv[2:]), prog=f"{argv[0]} {argv[1]}"))

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="*", default=["."])

    def handle(self, *args: Any, **options: Any) -> None:
        # For call_command("async_actions_lint", "src/"): fail like the CLI does.
        from async_actions.lint.cli import main

        code = main(list(options["paths"]))
        if code:
            raise CommandError("async-actions lint found problems", returncode=code)
