"""The ways in: flake8 plugin, manage.py command, pre-commit hook, pyproject entry points."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from async_actions.lint import flake8_plugin

from .conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
COMMAND = SRC / "async_actions" / "management" / "commands" / "async_actions_lint.py"


def _plugin_results(path: Path) -> list[tuple[int, int, str]]:
    source = path.read_text()
    plugin = flake8_plugin.Plugin(ast.parse(source), str(path), source.splitlines(True))
    return [(line, col, message) for line, col, message, _ in plugin.run()]


@pytest.fixture
def fresh_plugin(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    flake8_plugin._config.cache_clear()
    flake8_plugin._project_findings.cache_clear()
    yield tmp_path
    flake8_plugin._config.cache_clear()
    flake8_plugin._project_findings.cache_clear()


def test_flake8_plugin_per_file_rules(fresh_plugin) -> None:
    results = _plugin_results(FIXTURES / "aa102.py")
    assert [(line, col) for line, col, _ in results] == [
        (13, 8),
        (14, 8),
        (22, 4),
        (27, 4),
        (48, 8),
    ]
    assert all(message.startswith("AA102 ") for _, _, message in results)


def test_flake8_plugin_project_rules_use_the_working_directory(fresh_plugin) -> None:
    shutil.copytree(FIXTURES / "project", fresh_plugin / "project")
    results = _plugin_results(Path("project/shop/tasks.py"))
    found = {(line, message.split()[0]) for line, _, message in results}
    assert found == {
        (11, "AA106"),
        (16, "AA106"),
        (26, "AA106"),
        (27, "AA101"),
        (46, "AA101"),
        (61, "AA101"),
    }


def test_flake8_runs_the_plugin_through_its_entry_point(tmp_path) -> None:
    pytest.importorskip("flake8")
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    declared = entry["flake8.extension"]
    installed = {ep.name: ep.value for ep in entry_points(group="flake8.extension")}
    if installed.get("AA") != declared["AA"]:
        # Not pip-installed here: a dist-info on the path stands in (flake8 finds plugins so).
        dist = tmp_path / "async_actions_lint_probe-0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: async-actions-lint-probe\nVersion: 0\n"
        )
        lines = [f"{k} = {v}" for k, v in declared.items()]
        (dist / "entry_points.txt").write_text("[flake8.extension]\n" + "\n".join(lines) + "\n")
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{tmp_path}"}
    run = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select=AA", str(FIXTURES / "aa103.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    # Same line:column as `async-actions lint` prints (flake8 shows columns 1-based).
    assert [line.split(": ")[0].rsplit(":", 2)[1:] for line in lines] == [
        ["15", "12"],
        ["21", "12"],
        ["27", "5"],
        ["53", "16"],
    ]
    assert all(": AA103 " in line for line in lines)


def test_management_command_imports_only_basecommand() -> None:
    tree = ast.parse(COMMAND.read_text())
    django_imports = [
        (node.module, [a.name for a in node.names])
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("django")
    ]
    assert django_imports == [("django.core.management.base", ["BaseCommand", "CommandError"])]
    assert not any(
        isinstance(node, ast.Import) and any(a.name.startswith("django") for a in node.names)
        for node in ast.walk(tree)
    )


def test_management_command_runs_the_linter() -> None:
    pytest.importorskip("django")
    code = (
        "import django, sys\n"
        "from django.conf import settings\n"
        "settings.configure(INSTALLED_APPS=['async_actions'])\n"
        "django.setup()\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', 'async_actions_lint', '--settings=x',\n"
        f"    '--format', 'json', '--select', 'AA102', {str(FIXTURES / 'aa102.py')!r}])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert run.returncode == 1, run.stderr
    assert run.stdout.count('"code": "AA102"') == 5


def test_pre_commit_hook_definition() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "- id: async-actions-lint" in text
    assert "entry: async-actions lint" in text
    assert "pass_filenames: false" in text  # AA101/AA106 need the whole project


def test_console_script_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["async-actions"] == "async_actions.cli:main"
    assert project["entry-points"]["flake8.extension"] == {
        "AA": "async_actions.lint.flake8_plugin:Plugin"
    }
