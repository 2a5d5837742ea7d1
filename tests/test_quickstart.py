"""A new user's first hour: the README's Quickstart and its testing section, followed as
written in a temporary folder with a virtualenv of its own.

Files the README shows are written (or appended to) where their first line says; console
commands are run; the `manage.py shell` block is fed to the shell and each `print` must
print what its comment says. Two substitutions only: `pip install` takes this worktree
(and the pinned versions of requirements/test.txt) instead of the registry's release, and
the worker is started in the background and stopped before the tests run.

Needs Redis (the Quickstart's broker): AA_QUICKSTART_BROKER_URL, by default
redis://127.0.0.1:6379/12. Run with `make test-quickstart` (part of `make test-services`).
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import time
import venv
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.readme_blocks import SHELL_LINE, Block, blocks

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BROKER_URL = os.environ.get("AA_QUICKSTART_BROKER_URL", "redis://127.0.0.1:6379/12")

pytestmark = pytest.mark.quickstart


def _redis_reachable() -> bool:
    url = urlparse(BROKER_URL)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), 2):
            return True
    except OSError:
        return False


class Project:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.venv = path / ".venv"
        venv.create(self.venv, with_pip=True)
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AA_", "DJANGO_", "PYTHON", "PIP_REQUIRE", "VIRTUAL_ENV"))
        }
        self.env.update(
            PATH=f"{self.venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            VIRTUAL_ENV=str(self.venv),
            CELERY_BROKER_URL=BROKER_URL,
            PIP_DISABLE_PIP_VERSION_CHECK="1",
        )
        self.worker: subprocess.Popen[bytes] | None = None

    def run(self, command: str, *, stdin: str | None = None, timeout: float = 300) -> str:
        done = subprocess.run(  # noqa: S602  (the README's own commands)
            command,
            shell=True,
            cwd=self.path,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            executable="/bin/bash",
        )
        assert done.returncode == 0, (
            f"`{command}` exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return done.stdout

    def command(self, command: str) -> None:
        words = shlex.split(command)
        if words[:3] == ["python", "-m", "venv"]:
            return  # made already, and "activated" through PATH
        if words[:2] == ["pip", "install"]:
            # This worktree instead of the registry's release, with the pinned versions.
            packages = [re.sub(r"^django-async-actions", str(ROOT), word) for word in words[2:]]
            constraints = ROOT / "requirements" / "test.txt"
            self.run(
                shlex.join(["python", "-m", "pip", "install", "-q", "-c", str(constraints)])
                + " "
                + shlex.join(packages)
            )
            return
        if words[:4] == ["celery", "-A", "proj", "worker"]:
            self.start_worker(command)
            return
        self.run(command)

    def start_worker(self, command: str) -> None:
        log = (self.path / "worker.log").open("wb")
        # No shell in between: stopping it must stop the worker itself.
        self.worker = subprocess.Popen(  # noqa: S603
            shlex.split(command), cwd=self.path, env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 60
        while " ready." not in (self.path / "worker.log").read_text(errors="replace"):
            assert self.worker.poll() is None, (self.path / "worker.log").read_text()
            assert time.monotonic() < deadline, (self.path / "worker.log").read_text()
            time.sleep(0.2)

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()
            self.worker.wait(30)

    def write(self, block: Block) -> None:
        match = block.file
        assert match is not None
        target = self.path / match["path"]
        body = block.source.split("\n", 1)[1]
        if match["append"]:
            with target.open("a") as file:
                file.write("\n" + body)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)

    def shell(self, block: Block) -> None:
        output = self.run("python manage.py shell", stdin=block.source, timeout=120)
        expected = [
            line.split("#", 1)[1].strip()
            for line in block.source.splitlines()
            if line.startswith("print(")
        ]
        assert output.strip().splitlines()[-len(expected) :] == expected, output

    def follow(self, block: Block) -> None:
        if block.language == "console":
            for command in block.commands:
                self.command(command)
        elif block.first_line == SHELL_LINE:
            self.shell(block)
        elif block.file is not None:
            self.write(block)
        else:
            raise AssertionError(f"The README block is not one a reader can follow:\n{block}")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    if not _redis_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"The Quickstart needs Redis at {BROKER_URL}.")
        pytest.skip(f"No Redis at {BROKER_URL} (the Quickstart's broker).")
    _forget_old_messages()
    return Project(tmp_path)


def _forget_old_messages() -> None:
    """An interrupted earlier run may have left messages in this Redis database's queue."""
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")
    client.close()


def test_readme_quickstart_and_testing_as_written(project: Project) -> None:
    quickstart = blocks(README, "## Quickstart")
    testing = blocks(README, "## Testing your own project")
    assert len(quickstart) >= 7 and len(testing) >= 4

    try:
        for block in quickstart:
            project.follow(block)
    finally:
        project.stop_worker()
    for block in testing:
        if block.commands == ["python -m pytest"]:
            output = project.run("python -m pytest -p no:cacheprovider -q", timeout=300)
            assert re.search(r"^4 passed", output, re.MULTILINE), output
        else:
            project.follow(block)
