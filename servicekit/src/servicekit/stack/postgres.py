"""PostgreSQL from the OS packages, run as a private cluster under the stack folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from servicekit.settings import DEFAULT_ADMIN_PASSWORD, DEFAULT_ADMIN_USER, StackSettings
from servicekit.stack.proc import Log, StackError, as_user, run

PG_OS_USER = "postgres"


def find_bindir() -> Path | None:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def ensure_installed(log: Log) -> Path:
    bindir = find_bindir()
    if bindir:
        return bindir
    if os.geteuid() != 0:
        raise StackError(
            "PostgreSQL server binaries are missing and this user cannot install them; "
            "run `sudo apt-get install -y postgresql` once, or set DATABASE_URL to a server."
        )
    log("installing PostgreSQL from the OS packages (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "postgresql"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)  # noqa: S603
        if proc.returncode != 0:
            raise StackError(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    bindir = find_bindir()
    if not bindir:
        raise StackError("apt-get installed postgresql but no initdb was found")
    return bindir


def _reachable_by_postgres(path: Path) -> bool:
    if os.geteuid() != 0:
        return True
    proc = subprocess.run(  # noqa: S603
        [*as_user(PG_OS_USER), "test", "-w", str(path)], capture_output=True, check=False
    )
    return proc.returncode == 0


class LocalPostgres:
    def __init__(self, settings: StackSettings, log: Log) -> None:
        self.settings = settings
        self.log = log
        self.home = self._home()
        self.data = self.home / "data"
        self.logfile = self.home / "postgres.log"
        self.sockets = self.home / "run"

    def _home(self) -> Path:
        preferred = self.settings.dir / "pg"
        marker = self.settings.dir / "pg.location"
        if marker.exists():
            return Path(marker.read_text().strip())
        preferred.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(preferred, PG_OS_USER, PG_OS_USER)
        if _reachable_by_postgres(preferred):
            return preferred
        # The checkout sits somewhere the postgres OS user cannot enter (e.g. under /root):
        # keep the cluster in a per-checkout folder it can reach, and remember where.
        digest = hashlib.sha256(str(self.settings.dir).encode()).hexdigest()[:10]
        home = Path("/var/tmp") / f"active-referrals-{digest}" / "pg"  # noqa: S108 - owned, not shared
        home.mkdir(parents=True, exist_ok=True)
        shutil.chown(home, PG_OS_USER, PG_OS_USER)
        marker.write_text(str(home))
        return home

    def _ctl(self, bindir: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [*as_user(PG_OS_USER), str(bindir / "pg_ctl"), "-D", str(self.data), *args],
            capture_output=True,
            text=True,
            check=False,
        )

    def running(self) -> bool:
        bindir = find_bindir()
        if bindir is None or not (self.data / "PG_VERSION").exists():
            return False
        return self._ctl(bindir, "status").returncode == 0

    def up(self) -> None:
        bindir = ensure_installed(self.log)
        if not (self.data / "PG_VERSION").exists():
            self._initdb(bindir)
        if self._ctl(bindir, "status").returncode == 0:
            self.log(f"postgres already running on 127.0.0.1:{self.settings.pg_port}")
        else:
            self._start(bindir)
        self.wait_ready()

    def _initdb(self, bindir: Path) -> None:
        self.log(f"initialising a PostgreSQL cluster in {self.data}")
        self.data.mkdir(parents=True, exist_ok=True)
        pwfile = self.home / ".pwfile"
        pwfile.write_text(DEFAULT_ADMIN_PASSWORD + "\n")
        if os.geteuid() == 0:
            for p in (self.data, pwfile):
                shutil.chown(p, PG_OS_USER, PG_OS_USER)
        try:
            run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    DEFAULT_ADMIN_USER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                user=PG_OS_USER,
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def _start(self, bindir: Path) -> None:
        self.sockets.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.sockets, PG_OS_USER, PG_OS_USER)
            if self.logfile.exists():
                shutil.chown(self.logfile, PG_OS_USER, PG_OS_USER)
        options = " ".join(
            [
                f"-p {self.settings.pg_port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.sockets}",
                "-c max_connections=300",
                "-c shared_buffers=256MB",
                "-c max_wal_size=2GB",
            ]
        )
        self.log(f"starting postgres on 127.0.0.1:{self.settings.pg_port}")
        proc = self._ctl(bindir, "start", "-w", "-t", "60", "-l", str(self.logfile), "-o", options)
        if proc.returncode != 0:
            raise StackError(f"postgres did not start:\n{proc.stdout}{proc.stderr}")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.ready_timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(
                    self.settings.local_database_url().rsplit("/", 1)[0] + "/postgres",
                    connect_timeout=3,
                ) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.3)
        raise StackError(f"postgres not ready after {self.settings.ready_timeout_s}s: {last}")

    def down(self) -> None:
        bindir = find_bindir()
        if bindir is None or not self.running():
            self.log("postgres is not running")
            return
        proc = self._ctl(bindir, "stop", "-m", "fast", "-w", "-t", "60")
        if proc.returncode != 0:
            raise StackError(f"postgres did not stop:\n{proc.stdout}{proc.stderr}")
        self.log("postgres stopped")
