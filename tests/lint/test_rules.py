"""Each rule against its fixture: exactly the marked lines, nothing else."""

from __future__ import annotations

from dataclasses import replace

import pytest

from async_actions.lint import Config, lint_paths

from .conftest import FIXTURES, expected, linted


@pytest.mark.parametrize(
    "name", ["aa102.py", "aa103.py", "aa104.py", "aa105.py", "aa107.py", "aa108.py", "aliases.py"]
)
def test_fixture_findings_match_markers(name: str) -> None:
    path = FIXTURES / name
    assert expected(path), "a fixture without markers would prove nothing"
    assert linted(path) == expected(path)


def test_project_wide_rules_match_markers() -> None:
    project = FIXTURES / "project"
    assert linted(project) == expected(project)


def test_nested_chain_race_exact_places() -> None:
    found = {(f.line, f.code) for f in lint_paths([FIXTURES / "project"]) if f.code == "AA101"}
    # inner_chain's chain(...).delay(), the `|` step, and the step returned by a @chainable.
    assert found == {(27, "AA101"), (46, "AA101"), (61, "AA101")}


def test_nested_chain_race_message_names_the_step_site() -> None:
    (finding,) = [
        f for f in lint_paths([FIXTURES / "project"]) if f.code == "AA101" and f.line == 27
    ]
    assert "inside task `inner_chain`" in finding.message
    assert "tasks.py:33" in finding.message  # where inner_chain.s() joins the outer chain
    assert "@chainable" in finding.message and "self.replace()" in finding.message


def test_index_spans_files() -> None:
    shop = FIXTURES / "project" / "shop"
    # workflows.py makes public_step_used_elsewhere a step; views.py also starts it directly.
    assert ("tasks.py", 70, "AA106") not in linted(shop / "tasks.py")
    assert ("tasks.py", 70, "AA106") in linted(shop / "tasks.py", shop / "workflows.py")
    assert ("tasks.py", 70, "AA106") not in linted(FIXTURES / "project")


def test_shadowed_task_name_is_not_a_step() -> None:
    codes_at_lonely_sender = {
        f for f in linted(FIXTURES / "project") if f[0] == "tasks.py" and 72 <= f[1] <= 76
    }
    assert codes_at_lonely_sender == set()


def test_task_size_limit_is_configurable() -> None:
    path = FIXTURES / "aa105.py"
    strict = linted(path, config=replace(Config(), max_task_statements=29))
    # thirty_statements (30 statements) now goes over as well.
    assert strict - linted(path) == {("aa105.py", 116, "AA105")}
    relaxed = linted(path, config=replace(Config(), max_task_statements=100))
    assert ("aa105.py", 79, "AA105") not in relaxed


def test_tracking_keywords_are_configurable() -> None:
    config = replace(Config(), tracking_kwargs=("user_id",))
    found = linted(FIXTURES / "aa107.py", config=config)
    assert ("aa107.py", 43, "AA107") in found


def test_extra_task_decorators(tmp_path) -> None:
    source = (
        "from myproject.utils import retryable_task\n\n"
        "@retryable_task\n"
        "def job(x):\n"
        "    return x.delay().get()\n"
    )
    (tmp_path / "jobs.py").write_text(source)
    assert linted(tmp_path) == set()
    config = replace(Config(), task_decorators=("retryable_task",))
    assert linted(tmp_path, config=config) == {("jobs.py", 5, "AA103")}
