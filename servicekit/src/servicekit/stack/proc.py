"""Small helpers for running and watching the stack's child processes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

Log = Callable[[str], None]


class StackError(RuntimeError):
    """The stack could not be brought to the requested state; the message says why."""


def run(cmd: Sequence[str], *, cwd: Path | None = None, user: str | None = None) -> str:
    """Run a command to completion, returning stdout; raise StackError with its output."""
    full = [*as_user(user), *cmd]
    proc = subprocess.run(full, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise StackError(f"command failed ({proc.returncode}): {' '.join(full)}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def as_user(user: str | None) -> list[str]:
    """Prefix that runs a command as `user` when we are root and someone else is needed."""
    if user is None or os.geteuid() != 0:
        return []
    return ["runuser", "-u", user, "--"]


def read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return True
    return state != "Z"


def terminate(pid: int, *, timeout_s: float = 30.0) -> None:
    """SIGTERM, wait for a clean exit, SIGKILL if it does not come."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def tail(path: Path, lines: int) -> str:
    if not path.exists():
        return f"(no log yet at {path})\n"
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 256 * 1024))
        data = fh.read().decode("utf-8", errors="replace")
    return "\n".join(data.splitlines()[-lines:]) + "\n"
