"""How fast is `async-actions lint` next to flake8 (no plugins) on the same files?

    python -m benchmarks lint --tree ~/src/saleor    # a real project's tree, read in place
    AA_LINT_BENCH_TREE=~/src/saleor python -m benchmarks lint
    python -m benchmarks lint                        # no tree given: 2000 generated files
    python -m benchmarks lint --files 5000

flake8 runs from a virtualenv of its own with flake8 alone (made once under
~/.cache/async-actions-bench with pip): flake8 runs every installed plugin whatever
`--select` says, so run from this project's environment it would also run ours.

The generated tree is deterministic: the same --files gives the same files, and every one
of AA101-AA108 occurs in it (the tests use that).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

USES_DJANGO = False  # for python -m benchmarks

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from async_actions.lint.config import DEFAULT_EXCLUDES  # noqa: E402

_TASKS = '''"""Tasks of app {n}."""

from celery import chain, shared_task
from django.db import transaction

from app{n}.models import Invoice
from app{n} import services


@shared_task
def fetch_invoices_{n}(**kwargs):
    return services.invoices_fetch(page=kwargs.get("page", 1))


@shared_task
def store_invoices_{n}(data):
    invoice = Invoice.objects.get(pk=data["id"])
    invoice.total = data["total"]
    invoice.save()
    return invoice.pk


@shared_task
def _sync_{n}():
    return chain(fetch_invoices_{n}.s(), store_invoices_{n}.s()).delay()


@shared_task
def nightly_{n}():
    return chain(_sync_{n}.s(), _report_{n}.s(), archive_invoices_{n}.si()).delay()


@shared_task
def archive_invoices_{n}():
    return services.invoices_archive()


@shared_task
def _report_{n}(result):
    child = fetch_invoices_{n}.delay()
    return child.get()


def start_{n}(report):
    nightly_{n}.delay(async_action_report_id=report.id)
    _report_{n}.delay(async_action_report_id=report.id)


def save_and_notify_{n}(invoice_id):
    invoice = Invoice.objects.get(pk=invoice_id)
    with transaction.atomic():
        invoice.save()
        store_invoices_{n}.delay(invoice)
        transaction.on_commit(lambda: store_invoices_{n}.delay({{"id": invoice_id}}))
'''

_CHAINABLE = """from async_actions import chainable

from app{n}.tasks import _report_{n}, fetch_invoices_{n}


@chainable
def invoice_steps_{n}():
    return fetch_invoices_{n}.s(), _report_{n}.s()


@chainable
def broken_steps_{n}():
    return fetch_invoices_{n}.delay()
"""

# Ordinary code, so most of the tree looks like a Django project rather than a rule zoo.
_MODULE = '''"""Helpers {n}.{m}: ordinary code the linter must read but not flag."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal


@dataclasses.dataclass
class Line{m}:
    description: str
    quantity: int
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


def parse_lines_{m}(rows: list[dict]) -> list[Line{m}]:
    lines = []
    for row in rows:
        if not row.get("description"):
            continue
        lines.append(
            Line{m}(
                description=row["description"].strip(),
                quantity=int(row.get("quantity", 1)),
                unit_price=Decimal(str(row.get("unit_price", "0"))),
            )
        )
    return lines


def summarize_{m}(lines: list[Line{m}]) -> dict[str, object]:
    total = sum((line.total for line in lines), Decimal("0"))
    biggest = max(lines, key=lambda line: line.total, default=None)
    return {{
        "count": len(lines),
        "total": total,
        "biggest": biggest.description if biggest else None,
        "at": dt.datetime(2020, 1, 1).isoformat(),
        "labels": ", ".join(sorted({{line.description for line in lines}})),
    }}


class Report{m}:
    def __init__(self, lines: list[Line{m}]) -> None:
        self.lines = lines
        self.cache: dict[str, object] = {{}}

    def get(self, key: str) -> object:
        if key not in self.cache:
            self.cache[key] = summarize_{m}(self.lines).get(key)
        return self.cache[key]

    def render(self) -> str:
        parts = [f"{{line.description}}: {{line.total}}" for line in self.lines]
        return "\\n".join(parts)
'''


def generate_tree(root: Path, files: int = 2000) -> Path:
    """Write `files` Python files under `root`: per app 2 rule-bearing modules + ordinary ones."""
    per_app = 20
    written = 0
    app = 0
    while written < files:
        package = root / f"app{app}"
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
        written += 1
        special = [("tasks.py", _TASKS), ("workflows.py", _CHAINABLE)]
        for name, template in special:
            if written < files:
                (package / name).write_text(template.format(n=app))
                written += 1
        for m in range(per_app - 3):
            if written >= files:
                break
            (package / f"helpers_{m}.py").write_text(_MODULE.format(n=app, m=m))
            written += 1
        app += 1
    return root


FLAKE8 = "flake8==7.5.0"  # the version pinned in requirements/test.txt


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def flake8_venv(folder: Path | None = None) -> Path:
    """A virtualenv with flake8 alone, made once with pip under the cache folder.

    flake8 runs every plugin installed beside it whatever `--select` says; run from this
    project's environment it would also run this project's own plugin on every file.
    """
    folder = folder or _cache_home() / "async-actions-bench" / FLAKE8.replace("==", "-")
    python = folder / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", FLAKE8],
            check=True,
        )
    probe = (
        "import importlib.util, sys; "
        "sys.exit(importlib.util.find_spec('async_actions') is not None)"
    )
    if subprocess.run([str(python), "-c", probe], check=False).returncode != 0:
        raise SystemExit(f"{folder} has async_actions installed: give a venv with flake8 only")
    return python


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, bytes]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        error = proc.stderr.decode()[-500:]
        raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}): {error}")
    return elapsed, proc.stdout


def parse_times(tree: Path) -> tuple[int, float, float, int]:
    """(files, seconds with ast, seconds with libcst, files only libcst reads): why ast stays
    the fast path and libcst only reads what ast cannot."""
    import ast

    import libcst

    from async_actions.lint.files import discover

    sources = [
        p.read_text(encoding="utf-8", errors="replace") for p in discover([tree], DEFAULT_EXCLUDES)
    ]
    start = time.perf_counter()
    fallback = 0
    for source in sources:
        try:
            ast.parse(source)
        except SyntaxError:
            fallback += 1
    with_ast = time.perf_counter() - start
    start = time.perf_counter()
    for source in sources:
        try:
            libcst.parse_module(source)
        except Exception:  # noqa: BLE001 - a broken file costs its parse time all the same
            pass
    with_cst = time.perf_counter() - start
    return len(sources), with_ast, with_cst, fallback


LABELS = Path(__file__).with_name("lint_labels.json")


def recall(folder: Path) -> int:
    """Print recall and precision per rule on the labelled projects under `folder`."""
    from async_actions.lint import Config, lint_paths
    from async_actions.lint.rules import RULES

    labels = json.loads(LABELS.read_text())
    config = Config(cache_dir="")
    found: dict[str, set[tuple[str, int, int, str]]] = {}
    totals: dict[str, int] = {}
    for project, meta in labels["projects"].items():
        root = folder / project
        if not root.is_dir():
            print(f"missing {root} (fetch {project.replace('+', '/')} at {meta['commit']})")
            continue
        findings = lint_paths([root], config)
        totals[project] = len(findings)
        found[project] = {(os.path.relpath(f.path, root), f.line, f.col, f.code) for f in findings}
        if len(findings) != meta["findings"]:
            print(f"note: {project} has {len(findings)} findings, {meta['findings']} were read")
    per_rule: dict[str, list[int]] = {code: [0, 0] for code in RULES}
    misses = []
    for label in labels["present"]:
        if label["project"] not in found:
            continue
        hits = {
            (path, line, col)
            for path, line, col, code in found[label["project"]]
            if code == label["rule"] and path == label["path"] and line == label["line"]
        }
        hit = any(label.get("col") in (None, col) for _, _, col in hits)
        per_rule[label["rule"]][1] += 1
        per_rule[label["rule"]][0] += hit
        if not hit:
            misses.append(label)
    wrong: dict[str, int] = {code: 0 for code in RULES}
    reported: dict[str, int] = {code: 0 for code in RULES}
    fps = {(fp["project"], fp["path"], fp["line"], fp["rule"]) for fp in labels["false_positives"]}
    for project, items in found.items():
        for path, line, _, code in items:
            if code in reported:
                reported[code] += 1
                wrong[code] += (project, path, line, code) in fps
    header = ("rule", "found/present", "recall", "findings", "wrong", "precision")
    print("{:<6} {:>14} {:>7}   {:>8} {:>5} {:>9}".format(*header))
    for code in RULES:
        hit, present = per_rule[code]
        rec = f"{hit / present:6.0%}" if present else "     -"
        prec = f"{1 - wrong[code] / reported[code]:8.1%}" if reported[code] else "        -"
        counts = f"{hit:>6}/{present:<7}"
        print(f"{code:<6} {counts} {rec:>7}   {reported[code]:>8} {wrong[code]:>5} {prec:>9}")
    hit = sum(h for h, _ in per_rule.values())
    present = sum(p for _, p in per_rule.values())
    all_reported, all_wrong = sum(reported.values()), sum(wrong.values())
    print(
        f"{'all':<6} {hit:>6}/{present:<7} {hit / max(present, 1):6.0%}    {all_reported:>8} "
        f"{all_wrong:>5} {1 - all_wrong / max(all_reported, 1):8.1%}"
    )
    for label in misses:
        print(f"missed: {label['project']} {label['path']}:{label['line']} {label['rule']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument(
        "--tree",
        type=Path,
        default=os.environ.get("AA_LINT_BENCH_TREE") or None,
        help="lint this existing tree instead (default: $AA_LINT_BENCH_TREE, else generated)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs each; the median is kept")
    parser.add_argument("--flake8-venv", type=Path, help="a venv with flake8 only (default: made)")
    parser.add_argument(
        "--recall",
        type=Path,
        metavar="FOLDER",
        help="print recall/precision per rule on the labelled projects fetched under FOLDER",
    )
    args = parser.parse_args(argv)
    if args.recall is not None:
        return recall(args.recall)
    if args.tree is not None and not Path(args.tree).is_dir():
        raise SystemExit(f"--tree {args.tree}: no such folder")
    flake8_python = flake8_venv(args.flake8_venv)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(args.tree) if args.tree else generate_tree(Path(tmp) / "tree", args.files)
        py = sys.executable
        ours_env = {**os.environ, "PYTHONPATH": str(SRC)}
        flake8_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        cold = [py, "-m", "async_actions.lint", "--format", "json", "--no-cache", str(tree)]
        warm = [
            py,
            "-m",
            "async_actions.lint",
            "--format",
            "json",
            "--cache-dir",
            str(Path(tmp) / "cache"),
            str(tree),
        ]
        # The same files for both: flake8 gets the linter's default excludes (migrations...).
        flake8 = [
            *(str(flake8_python), "-m", "flake8", "--isolated", "--select=E,W,F", "--exit-zero"),
            f"--exclude={','.join(DEFAULT_EXCLUDES)}",
        ]
        _run(warm, ours_env)  # fills the cache the warm rows read
        commands = {
            "async-actions lint (1 process, no cache)": (cold, ours_env),
            "async-actions lint (1 process, warm cache)": (warm, ours_env),
            "flake8 --select=E,W,F (default jobs)": ([*flake8, str(tree)], flake8_env),
            "flake8 --select=E,W,F -j 1": ([*flake8, "-j", "1", str(tree)], flake8_env),
        }
        runs: dict[str, list[float]] = {label: [] for label in commands}
        out = b""
        for _ in range(args.repeat):  # interleaved: a busy machine slows every row alike
            for label, (cmd, env) in commands.items():
                seconds, stdout = _run(cmd, env)
                runs[label].append(seconds)
                out = stdout if label.startswith("async-actions lint (1 process, no") else out
        data = json.loads(out)
        count = data["files"]
        parsed, with_ast, with_cst, fallback = parse_times(tree)
    medians = {label: statistics.median(values) for label, values in runs.items()}
    ours = medians["async-actions lint (1 process, no cache)"]
    version = subprocess.run(
        [str(flake8_python), "-m", "flake8", "--version"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"tree: {args.tree or 'generated'} ({count} files linted, "
        f"{len(data['findings'])} findings), median of {args.repeat} interleaved runs"
    )
    print(f"flake8 from its own venv ({flake8_python.parent.parent}): {version}")
    for label, seconds in medians.items():
        print(f"{label:<44} {seconds:7.2f} s  ratio {seconds / ours:5.2f}x")
    print(
        "ratio = time / async-actions lint (no cache) time; flake8 rows above 1: the linter "
        "is faster"
    )
    print(
        f"parsing alone, {parsed} files: ast {with_ast:.2f} s, libcst {with_cst:.2f} s "
        f"({with_cst / max(with_ast, 1e-9):.1f}x); libcst is only asked for the {fallback} "
        "files ast cannot read"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
