"""Each service starts as its own process (`python -m <service>`), answers /ready, logs JSON and
stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.infra


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("module", "prefix"),
    [
        ("referral_intake", "INTAKE"),
        ("triage", "TRIAGE"),
        ("provider_notify", "NOTIFY"),
        ("outcomes", "OUTCOMES"),
    ],
)
def test_the_service_process_becomes_ready_logs_json_and_stops_on_sigterm(
    module, prefix, test_database_url, kafka_bootstrap, isolated_topic_prefix
):
    port = _free_port()
    env = os.environ | {
        "DATABASE_URL": test_database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TOPIC_PREFIX": isolated_topic_prefix,
        f"{prefix}_HTTP_PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", module], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert ready is not None, "the service never answered"
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["database"]["ok"] is True
        assert "kit_relay_active" in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status says why.
    assert proc.returncode in (0, -signal.SIGTERM), out[-2000:]
    records = [json.loads(line) for line in out.splitlines() if line.strip()]  # every line is JSON
    service = module.replace("_", "-")
    assert records, out[-2000:]
    assert all(r["service"] == service for r in records)
    messages = [r["message"] for r in records]
    assert f"{service} started" in messages
    assert f"{service} stopped" in messages
