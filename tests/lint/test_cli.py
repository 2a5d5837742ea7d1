"""The command line: output formats, exit status, selection, configuration, exclusion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from async_actions import cli as top_cli
from async_actions.lint.cli import main

from .conftest import FIXTURES

SRC = Path(__file__).resolve().parents[2] / "src"
AA102 = FIXTURES / "aa102.py"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC)}


def test_text_output_and_exit_status(capsys) -> None:
    assert main([str(AA102)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{AA102}:13:9: AA102 `.delay()` inside `transaction.atomic`")
    assert len(lines) == 6
    assert lines[-1] == "Found 5 problems (5 errors) in 1 file."


def test_clean_run_exits_zero(tmp_path, capsys) -> None:
    (tmp_path / "ok.py").write_text("def f():\n    return 1\n")
    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == "No problems found in 1 file."


def test_singular_summary(tmp_path, capsys) -> None:
    (tmp_path / "one.py").write_text(
        "from django.db import transaction\n"
        "def f(t):\n"
        "    with transaction.atomic():\n"
        "        t.delay()\n"
    )
    assert main([str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "Found 1 problem (1 error) in 1 file."


def test_json_format(capsys) -> None:
    assert main(["--format", "json", str(AA102)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["files"] == 1
    assert [(f["line"], f["code"]) for f in data["findings"]] == [
        (13, "AA102"),
        (14, "AA102"),
        (22, "AA102"),
        (27, "AA102"),
        (48, "AA102"),
    ]
    assert data["findings"][0]["col"] == 9
    assert "transaction.atomic" in data["findings"][0]["title"]


def test_github_format(capsys) -> None:
    assert main(["--format", "github", str(AA102)]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"::error file={AA102},line=13,col=9,title=AA102::AA102 ")


def test_select_and_ignore(capsys) -> None:
    paths = [str(FIXTURES / "aa102.py"), str(FIXTURES / "aa104.py")]
    assert main(["--select", "AA104", "--format", "json", *paths]) == 1
    codes = {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert codes == {"AA104"}
    assert main(["--ignore", "AA102,AA104", *paths]) == 0
    capsys.readouterr()
    assert main(["--select", "AA1", "--ignore", "AA104", "--format", "json", *paths]) == 1
    codes = {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert codes == {"AA102"}


def test_syntax_error_is_reported_and_the_run_goes_on(capsys) -> None:
    assert main([str(FIXTURES / "broken.py"), str(AA102)]) == 1
    out = capsys.readouterr().out.splitlines()
    broken = f"{FIXTURES / 'broken.py'}:1:10: AA000 cannot parse this file: invalid syntax"
    assert out[5] == broken  # sorted by path: after aa102.py's five
    assert sum(" AA102 " in line for line in out) == 5
    assert out[-1] == "Found 6 problems (6 errors) in 2 files."


def _atomic_send(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "from django.db import transaction\n"
        "def f(t):\n"
        "    with transaction.atomic():\n"
        "        t.delay()\n"
    )


def test_default_and_extra_excludes(tmp_path, capsys) -> None:
    for rel in ["app/views.py", "app/migrations/0001.py", ".venv/lib/x.py", "legacy/old.py"]:
        _atomic_send(tmp_path / rel)
    assert main(["--format", "json", str(tmp_path)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["files"] == 2
    assert main(["--format", "json", "--exclude", "legacy", str(tmp_path)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [Path(f["path"]).name for f in data["findings"]] == ["views.py"]


def test_pyproject_configuration(tmp_path, capsys) -> None:
    _atomic_send(tmp_path / "app" / "views.py")
    _atomic_send(tmp_path / "generated" / "api.py")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.async-actions.lint]\nextend-exclude = ["generated"]\nmax-task-statements = 50\n'
    )
    assert main(["--format", "json", str(tmp_path)]) == 1
    assert json.loads(capsys.readouterr().out)["files"] == 1
    (tmp_path / "pyproject.toml").write_text('[tool.async-actions.lint]\nignore = ["AA102"]\n')
    assert main([str(tmp_path)]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    "section, complaint",
    [
        ("colour = 1", "unknown option `colour`"),
        ("select = 'AA101'", "must be a list of strings"),
        ('select = ["E501"]', "not a rule code"),
        ("max-task-statements = 0", "positive integer"),
    ],
)
def test_bad_configuration_exits_2(tmp_path, capsys, section: str, complaint: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.async-actions.lint]\n{section}\n")
    assert main([str(tmp_path)]) == 2
    assert complaint in capsys.readouterr().err


def test_missing_path_exits_2(tmp_path, capsys) -> None:
    assert main([str(tmp_path / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_parallel_jobs_give_the_same_findings(tmp_path, capsys) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        from lint_bench import generate_tree
    finally:
        sys.path.pop(0)
    generate_tree(tmp_path, files=240)
    assert main(["--format", "json", "-j", "1", str(tmp_path)]) == 1
    serial = json.loads(capsys.readouterr().out)
    assert main(["--format", "json", "-j", "2", str(tmp_path)]) == 1
    parallel = json.loads(capsys.readouterr().out)
    assert serial == parallel
    assert serial["files"] == 240
    assert {f["code"] for f in serial["findings"]} == {f"AA10{i}" for i in range(1, 9)}


def test_console_script_dispatches_to_lint(capsys) -> None:
    assert top_cli.main(["lint", str(AA102)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "Found 5 problems (5 errors) in 1 file."
    assert top_cli.main(["frobnicate"]) == 2


def test_python_dash_m(tmp_path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "async_actions.lint", "--select", "AA102", str(AA102)],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert run.stdout.splitlines()[-1] == "Found 5 problems (5 errors) in 1 file."


def test_lint_package_does_not_import_django() -> None:
    code = (
        "import sys, async_actions.lint, async_actions.lint.cli\n"
        "from async_actions.lint import lint_paths\n"
        f"lint_paths([{str(FIXTURES)!r}])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'celery'))\n"
        "print(bad)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True
    )
    assert run.stdout.strip() == "[]"
