"""Versioned data files (rules, directories) that can change while a service runs.

The file is loaded and validated at start-up, where an error stops the service. After that,
`watch()` re-reads it when it changes on disk; a file that fails validation is refused with
the loader's message in the log, and the service keeps using the last good version.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from prometheus_client import Counter

log = logging.getLogger(__name__)
T = TypeVar("T")

RELOADS = Counter(
    "kit_data_reloads_total", "Reloads of a versioned data file, by outcome", ["file", "outcome"]
)


class Reloadable(Generic[T]):
    def __init__(self, path: Path | None, load: Callable[[Path], T], packaged: Callable[[], T]) -> None:
        """`path` None means the packaged default, which never changes while running."""
        self.path = path
        self._load = load
        self._current = load(path) if path is not None else packaged()
        self._stamp = self._mtime()

    def __call__(self) -> T:
        return self._current

    def _mtime(self) -> float | None:
        try:
            return self.path.stat().st_mtime_ns if self.path is not None else None
        except OSError:
            return None

    def reload(self) -> bool:
        """Re-read the file; True if a new version is in force, False if it was refused."""
        if self.path is None:
            return False
        self._stamp = self._mtime()
        try:
            loaded = self._load(self.path)
        except Exception as exc:
            RELOADS.labels(self.path.name, "refused").inc()
            log.error("keeping the last good %s: the changed file was refused: %s", self.path.name, exc)
            return False
        self._current = loaded
        RELOADS.labels(self.path.name, "loaded").inc()
        log.info("loaded a new version of %s", self.path.name)
        return True

    async def watch(self, every_s: float = 5.0) -> None:
        """Reload whenever the file's modification time changes (until cancelled)."""
        if self.path is None:
            return
        while True:
            await asyncio.sleep(every_s)
            if self._mtime() != self._stamp:
                self.reload()
