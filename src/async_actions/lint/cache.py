"""Per-file results cached between runs, keyed by the file's content.

An optimisation only: a missing, unreadable or unwritable cache just means the file is
analysed again. The key covers the file's bytes and path, the configuration and the
linter's own code, so a change to any of them never returns a stale result.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from async_actions.lint.config import Config


@cache
def _code_salt() -> bytes:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.digest()


@cache
def _config_salt(config: Config) -> bytes:
    # Options that do not change a file's result stay out of the key.
    return repr(replace(config, jobs=1, cache_dir="")).encode()


def key(config: Config, path: Path, data: bytes) -> str:
    digest = hashlib.sha256(_code_salt())
    digest.update(_config_salt(config))
    digest.update(os.fsencode(os.path.abspath(path)) + b"\0")
    digest.update(data)
    return digest.hexdigest()


def _file(folder: str, name: str) -> Path:
    return Path(folder) / name[:2] / f"{name}.pickle"


def load(folder: str, name: str) -> Any | None:
    try:
        with _file(folder, name).open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own cache folder, written by us
    except Exception:  # noqa: BLE001 - a broken cache entry is a miss, never an error
        return None


def store(folder: str, name: str, value: Any) -> None:
    target = _file(folder, name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written whole then renamed: a parallel run never reads half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except OSError:
        pass
