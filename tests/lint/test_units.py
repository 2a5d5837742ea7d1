"""Small pieces: noqa comments, file discovery, configuration, names and imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from async_actions.lint import noqa
from async_actions.lint.config import Config, ConfigError, from_mapping
from async_actions.lint.files import discover
from async_actions.lint.names import import_targets, module_name


def test_noqa_comments() -> None:
    source = (
        "a = 1  # noqa\n"
        "b = 2  # noqa: AA101,AA102\n"
        "c = 3  # NOQA:AA104 because the row is deleted\n"
        "d = 4  # no qa here\n"
    )
    parsed = noqa.parse(source)
    assert parsed == {1: None, 2: frozenset({"AA101", "AA102"}), 3: frozenset({"AA104"})}
    assert noqa.silenced(parsed, 1, "AA105")
    assert noqa.silenced(parsed, 2, "AA102") and not noqa.silenced(parsed, 2, "AA103")
    assert not noqa.silenced(parsed, 4, "AA101")


def test_discover_prunes_excluded_folders_but_keeps_named_files(tmp_path: Path) -> None:
    for rel in ["app/a.py", "app/migrations/0001.py", "node_modules/x.py", "app/notes.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    excludes = Config().excludes()
    found = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path], excludes)]
    assert found == ["app/a.py"]
    named = tmp_path / "app/migrations/0001.py"
    assert list(discover([named], excludes)) == [named]


def test_config_mapping_and_selection() -> None:
    config = from_mapping({"select": ["AA1"], "ignore": ["AA105"], "max-task-statements": 12})
    assert config.max_task_statements == 12
    assert config.enabled("AA101") and not config.enabled("AA105")
    assert Config().enabled("AA108")
    assert config.is_tracking_kwarg("invoice_report_id") and not config.is_tracking_kwarg("id")
    with pytest.raises(ConfigError, match="unknown option"):
        from_mapping({"max_task_statements": 3})


def test_module_names_follow_packages(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "shop" / "orders"
    pkg.mkdir(parents=True)
    (tmp_path / "src" / "shop" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "tasks.py").write_text("")
    assert module_name(pkg / "tasks.py") == ("shop.orders.tasks", False)
    assert module_name(pkg / "__init__.py") == ("shop.orders", True)


def test_relative_and_aliased_imports() -> None:
    def bound(code: str, module: str = "shop.orders.views", package: bool = False) -> dict:
        node = ast.parse(code).body[0]
        assert isinstance(node, ast.Import | ast.ImportFrom)
        return import_targets(node, module, package)

    assert bound("from .tasks import fetch as get") == {"get": "shop.orders.tasks.fetch"}
    assert bound("from ..billing import tasks") == {"tasks": "shop.billing.tasks"}
    assert bound("from . import tasks", "shop.orders", True) == {"tasks": "shop.orders.tasks"}
    assert bound("import celery.canvas as canvas") == {"canvas": "celery.canvas"}
    assert bound("import celery.canvas") == {"celery": "celery"}


def test_linting_imports_no_django() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from async_actions.lint import lint_paths\n"
        "lint_paths(['tests/lint/fixtures'])\n"
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')]\n"
    )
    root = __file__.rsplit("/tests/", 1)[0]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
