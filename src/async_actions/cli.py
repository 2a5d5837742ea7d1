"""The `async-actions` console script: one subcommand per tool, each owning its arguments."""

from __future__ import annotations

import sys
from collections.abc import Callable


def _lint(argv: list[str]) -> int:
    from async_actions.lint.cli import main as lint_main  # imported on use: no Django needed

    return lint_main(argv)


COMMANDS: dict[str, Callable[[list[str]], int]] = {"lint": _lint}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        names = ", ".join(COMMANDS)
        print(f"usage: async-actions {{{names}}} ...", file=sys.stderr)
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    return COMMANDS[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
