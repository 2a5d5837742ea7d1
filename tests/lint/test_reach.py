"""The project-wide call graph: helpers, `self` methods, base-class hooks, signal receivers,
the project's own atomic wrappers - across modules, through cycles, within a depth."""

from __future__ import annotations

from dataclasses import replace

from async_actions.lint import Config, lint_paths

from .conftest import FIXTURES, expected, linted

REACH = FIXTURES / "reach"


def _at(name: str, line: int, code: str, config: Config | None = None) -> list[str]:
    return [
        f.message
        for f in lint_paths([REACH], config or Config())
        if f.path.endswith(f"/{name}") and f.line == line and f.code == code
    ]


def test_reach_findings_match_markers() -> None:
    assert len(expected(REACH)) >= 20
    assert linted(REACH) == expected(REACH)


def test_path_names_every_hop() -> None:
    (message,) = _at("tasks.py", 10, "AA103")
    assert "inside task `sync`" in message
    assert "via sync_all() (" in message and "services.py:9) -> _fetch() (" in message
    assert message.index("sync_all()") < message.index("_fetch()")
    assert "api.py:9)" in message  # where the wait itself is


def test_cycle_ends_and_is_followed_once() -> None:
    (message,) = _at("tasks.py", 20, "AA103")
    assert message.count("cycle_a()") == 1 and message.count("cycle_b()") == 1


def test_depth_is_configurable() -> None:
    # too_deep -> level_1 -> level_2 -> level_3 -> _fetch: four calls away.
    assert _at("tasks.py", 25, "AA103") == []
    (message,) = _at("tasks.py", 25, "AA103", replace(Config(), max_call_depth=4))
    assert "level_3()" in message
    assert _at("tasks.py", 10, "AA103", replace(Config(), max_call_depth=1)) == []


def test_base_class_hook_is_named() -> None:
    (message,) = _at("tasks.py", 48, "AA103")
    assert "via WaitingTask.on_failure() (" in message
    (launch,) = _at("tasks.py", 69, "AA101")
    assert "LaunchingTask.on_success()" in launch and "flows.py:14" in launch


def test_launching_base_is_fine_outside_workflows() -> None:
    assert not [f for f in lint_paths([REACH]) if f.line == 74 and f.path.endswith("tasks.py")]


def test_signal_receiver_paths() -> None:
    (message,) = _at("views.py", 18, "AA102")
    assert "post_save receiver order_saved()" in message
    (message,) = _at("signals.py", 16, "AA103")
    assert "task_postrun" in message


def test_each_module_alone_finds_nothing_indirect() -> None:
    # The paths need the other modules: a tree linted one file at a time loses them.
    alone = linted(REACH / "reach" / "tasks.py")
    assert ("tasks.py", 10, "AA103") not in alone


def test_noqa_on_the_call_site(tmp_path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("def wait(r):\n    return r.delay().get()\n")
    (pkg / "tasks.py").write_text(
        "from celery import shared_task\nfrom pkg.helpers import wait\n\n"
        "@shared_task\ndef a(r):\n    return wait(r)\n\n"
        "@shared_task\ndef b(r):\n    return wait(r)  # noqa: AA103\n"
    )
    assert linted(tmp_path) == {("tasks.py", 6, "AA103")}


def test_pickle_project_may_send_deleted_instances(tmp_path) -> None:
    source = (FIXTURES / "aa104.py").read_text()
    (tmp_path / "handlers.py").write_text(source)
    delete_line = (
        next(n for n, line in enumerate(source.splitlines(), 1) if "gone: with the default" in line)
        + 1
    )
    assert ("handlers.py", delete_line, "AA104") in linted(tmp_path)
    (tmp_path / "settings.py").write_text('CELERY_TASK_SERIALIZER = "pickle"\n')
    found = linted(tmp_path)
    assert ("handlers.py", delete_line, "AA104") not in found
    save_line = (
        next(n for n, line in enumerate(source.splitlines(), 1) if "def on_save(" in line) + 1
    )
    assert ("handlers.py", save_line, "AA104") in found  # a post_save instance still counts


def _project(tmp_path, **modules: str):
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, source in modules.items():
        (pkg / f"{name}.py").write_text(source)
    return tmp_path


def test_class_wrapper_around_atomic(tmp_path) -> None:
    _project(
        tmp_path,
        db=(
            "from django.db import transaction\n\n"
            "class Locked:\n"
            "    def __enter__(self):\n"
            "        self.atomic = transaction.atomic()\n"
            "        return self.atomic.__enter__()\n\n"
            "    def __exit__(self, *exc):\n"
            "        return self.atomic.__exit__(*exc)\n"
        ),
        views=(
            "from app.db import Locked\nfrom app.jobs import job\n\n"
            "def bad(pk):\n"
            "    with Locked():\n"
            "        job.delay(pk)\n\n"
            "def good(pk):\n"
            "    with Locked():\n"
            "        job.delay_on_commit(pk)\n"
        ),
        jobs="from celery import shared_task\n\n@shared_task\ndef job(pk):\n    return pk\n",
    )
    assert linted(tmp_path) == {("views.py", 6, "AA102")}


def test_celery_signal_receiver_for_one_task(tmp_path) -> None:
    _project(
        tmp_path,
        jobs=(
            "from celery import chain, shared_task\n"
            "from celery.result import AsyncResult\n"
            "from celery.signals import task_success, task_failure\n\n"
            "@shared_task\ndef _step(x):\n    return x\n\n"
            "@shared_task\ndef _other(x):\n    return x\n\n"
            "@shared_task\ndef _mail(x):\n    return x\n\n"
            "@task_success.connect(sender='_step')\n"
            "def after_step(sender=None, result=None, **kwargs):\n"
            "    _mail.delay(result)\n\n"
            "@task_failure.connect(sender='_other')\n"
            "def other_failed(sender=None, task_id=None, **kwargs):\n"
            "    _mail.delay(task_id)\n\n"
            "def start():\n"
            "    return chain(_step.s(1), _other.s()).delay()\n"
        ),
    )
    found = {(name, line, code) for name, line, code in linted(tmp_path)}
    # The success receiver of a step launches work the chain does not wait for; a failure
    # notification is not a workflow step.
    assert found == {("jobs.py", 6, "AA101")}


def test_self_method_cycle_is_walked_once(tmp_path) -> None:
    _project(
        tmp_path,
        jobs=(
            "from celery import Task\n\n"
            "class Sync(Task):\n"
            "    def run(self, n):\n"
            "        return self.ping(n)\n\n"
            "    def ping(self, n):\n"
            "        return self.pong(n - 1)\n\n"
            "    def pong(self, n):\n"
            "        return self.ping(n) if n else self.run(n)\n"
        ),
    )
    assert linted(tmp_path) == set()
