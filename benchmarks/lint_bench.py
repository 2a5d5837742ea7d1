"""How fast is `async-actions lint` next to flake8 (no plugins) on the same files?

    python benchmarks/lint_bench.py                 # generated tree of 2000 files
    python benchmarks/lint_bench.py --files 5000
    python benchmarks/lint_bench.py --tree ~/src/saleor   # any existing tree, read in place

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


def _time(cmd: list[str], repeat: int) -> tuple[float, bytes]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    runs = []
    out = b""
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
        runs.append(time.perf_counter() - start)
        out = proc.stdout
        if proc.returncode not in (0, 1):
            error = proc.stderr.decode()[-500:]
            raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}): {error}")
    return statistics.median(runs), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--tree", type=Path, help="lint this existing tree instead")
    parser.add_argument("--repeat", type=int, default=3, help="runs each; the median is kept")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tree = args.tree or generate_tree(Path(tmp) / "tree", args.files)
        py = sys.executable
        lint_cmd = [py, "-m", "async_actions.lint", "--format", "json", str(tree)]
        ours, out = _time(lint_cmd, args.repeat)
        count = json.loads(out)["files"]
        # The same files for both: flake8 gets the linter's default excludes (migrations...).
        flake8_cmd = [
            *(py, "-m", "flake8", "--isolated", "--select=E,W,F", "--exit-zero"),
            f"--exclude={','.join(DEFAULT_EXCLUDES)}",
        ]
        theirs, _ = _time([*flake8_cmd, str(tree)], args.repeat)
        theirs_j1, _ = _time([*flake8_cmd, "-j", "1", str(tree)], args.repeat)
    print(f"tree: {args.tree or 'generated'} ({count} files linted), median of {args.repeat} runs")
    rows = [
        ("async-actions lint (1 process)", ours),
        ("flake8 --select=E,W,F (default jobs)", theirs),
        ("flake8 --select=E,W,F -j 1", theirs_j1),
    ]
    for label, seconds in rows:
        print(f"{label:<38} {seconds:7.2f} s  ratio {seconds / ours:5.1f}x")
    print("ratio = flake8 time / async-actions lint time (above 1: the linter is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
