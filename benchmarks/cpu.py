"""CPU time of the processes a benchmark runs, read from /proc (Linux; None elsewhere).

Where the time goes when the caller, the worker and the services share the machine: the
worker's process tree, and PostgreSQL's and Redis's server processes.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, user + system seconds) of one process, or None if gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # After the name: state, ppid, ..., utime and stime are the 12th and 13th.
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _all() -> dict[int, tuple[str, int, float]]:
    found = {}
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def snapshot(root: int, *prefixes: str) -> dict[str, float | None]:
    """CPU seconds of `root`'s process tree ("tree") and of every process whose name starts
    with each of `prefixes` (postgres, redis-server), from one reading of /proc."""
    processes = _all()
    found: dict[str, float | None] = {"tree": _tree_seconds(processes, root)}
    for prefix in prefixes:
        found[prefix] = (
            sum(seconds for name, _, seconds in processes.values() if name.startswith(prefix))
            if processes
            else None
        )
    return found


def _tree_seconds(processes: dict[int, tuple[str, int, float]], root: int) -> float | None:
    """CPU seconds of `root` and its live descendants."""
    if root not in processes:
        return None
    tree, grown = {root}, True
    while grown:
        grown = False
        for pid, (_, parent, _) in processes.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grown = True
    return sum(processes[pid][2] for pid in tree)
