"""A data file changed while running: a good version is taken up, a bad one refused and the last good kept."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from servicekit.reloading import Reloadable


def load(path):
    doc = json.loads(path.read_text())
    if "version" not in doc:
        raise ValueError(f"{path}: version: Field required")
    return doc


def touch_later(path, text):
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


async def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_the_last_good_version(tmp_path, caplog):
    path = tmp_path / "rules.json"
    path.write_text('{"version": "1"}')
    data = Reloadable(path, load, packaged=lambda: {"version": "packaged"})
    assert data()["version"] == "1"

    watcher = asyncio.create_task(data.watch(every_s=0.01))
    try:
        touch_later(path, '{"version": "2"}')
        async with asyncio.timeout(5):
            while data()["version"] != "2":
                await asyncio.sleep(0.01)
        touch_later(path, '{"oops": true}')
        async with asyncio.timeout(5):
            while "keeping the last good" not in caplog.text:
                await asyncio.sleep(0.01)
        assert data()["version"] == "2"
        assert "version: Field required" in caplog.text
    finally:
        watcher.cancel()


def test_a_broken_file_at_start_up_stops_the_service(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match="version"):
        Reloadable(path, load, packaged=lambda: {})


def test_without_a_file_the_packaged_version_is_used():
    assert Reloadable(None, load, packaged=lambda: {"version": "packaged"})()["version"] == "packaged"
