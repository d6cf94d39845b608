"""The local stack comes up from nothing and goes down again (a second, private instance)."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.infra


def _referrals(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servicekit.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.skipif(
    bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("DATABASE_URL")),
    reason="external Kafka/PostgreSQL configured: this project starts no local processes",
)
def test_stack_comes_up_from_nothing_reports_healthy_and_goes_down(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")},
        "STACK_DIR": str(tmp_path / "stack"),
        "STACK_KAFKA_PORT": "19192",
        "STACK_KAFKA_CONTROLLER_PORT": "19193",
        "STACK_PG_PORT": "15532",
        "COLUMNS": "200",
    }
    try:
        up = _referrals(env, "up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "stack is up and healthy" in up.stdout
        assert "127.0.0.1:19192" in up.stdout and "15532" in up.stdout

        again = _referrals(env, "up")  # re-running is safe
        assert again.returncode == 0, again.stdout + again.stderr
        assert "already running" in again.stderr

        status = _referrals(env, "status")
        assert status.returncode == 0, status.stdout + status.stderr
    finally:
        down = _referrals(env, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    after = _referrals(env, "status")
    assert after.returncode == 1
    assert "not reachable" in after.stdout
