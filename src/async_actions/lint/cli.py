"""`async-actions lint PATH...`: argument parsing, configuration, output and exit status."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from async_actions.lint.config import Config, ConfigError, load
from async_actions.lint.engine import run
from async_actions.lint.report import FORMATS
from async_actions.lint.rules import RULES


def _codes(value: str) -> frozenset[str]:
    return frozenset(c.strip().upper() for c in value.split(",") if c.strip())


def build_parser(prog: str = "async-actions lint") -> argparse.ArgumentParser:
    rules = "\n".join(f"  {code}  {title}" for code, title in RULES.items())
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Find Celery anti-patterns in Django code, statically.",
        epilog=f"rules:\n{rules}\n\nExit status: 1 if anything was found, 0 if clean, 2 on "
        "usage errors.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text")
    parser.add_argument(
        "--select", type=_codes, help="only these codes or prefixes, e.g. AA101,AA102"
    )
    parser.add_argument("--ignore", type=_codes, help="skip these codes or prefixes")
    parser.add_argument(
        "--exclude", action="append", default=[], help="extra name or glob to skip (repeatable)"
    )
    parser.add_argument("--max-task-statements", type=int, help="AA105 size limit (default 30)")
    parser.add_argument("--config", type=Path, help="pyproject.toml to read (default: nearest)")
    parser.add_argument("--jobs", "-j", type=int, help="worker processes (default 1)")
    parser.add_argument(
        "--max-call-depth",
        type=int,
        help="how many calls deep AA101-AA103 follow a task's helpers (default 3)",
    )
    parser.add_argument("--cache-dir", help="where per-file results are cached between runs")
    parser.add_argument(
        "--no-cache", action="store_true", help="analyse every file again, read no cache"
    )
    return parser


def main(argv: list[str] | None = None, prog: str = "async-actions lint") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        config: Config = load(Path(args.paths[0]) if args.paths else None, args.config)
    except (ConfigError, OSError, ValueError) as exc:
        print(f"async-actions lint: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.select is not None:
        config = replace(config, select=args.select)
    if args.ignore is not None:
        config = replace(config, ignore=config.ignore | args.ignore)
    if args.exclude:
        config = replace(config, extend_exclude=config.extend_exclude + tuple(args.exclude))
    if args.max_task_statements is not None:
        config = replace(config, max_task_statements=args.max_task_statements)
    if args.jobs is not None:
        config = replace(config, jobs=args.jobs)
    if args.max_call_depth is not None:
        if args.max_call_depth < 1:
            print("async-actions lint: --max-call-depth must be at least 1", file=sys.stderr)
            return 2
        config = replace(config, max_call_depth=args.max_call_depth)
    if args.cache_dir is not None:
        config = replace(config, cache_dir=args.cache_dir)
    if args.no_cache:
        config = replace(config, cache_dir="")
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"async-actions lint: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    result = run(args.paths, config)
    print(FORMATS[args.format](result.findings, result.files))
    return 1 if result.findings else 0
