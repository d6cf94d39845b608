"""Structured JSON logs carrying the service, referral id and trace id."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from uuid import UUID

from pythonjsonlogger.json import JsonFormatter

from servicekit.observability.tracing import trace_id_hex

# The id itself, not its text: it is set for every event handled and read only when one logs.
referral_id_var: ContextVar[UUID | None] = ContextVar("referral_id", default=None)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        referral_id = referral_id_var.get()
        record.referral_id = str(referral_id) if referral_id is not None else None
        record.trace_id = trace_id_hex()
        return True


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(referral_id)s %(trace_id)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The Kafka client logs every failed connection attempt at ERROR while it retries.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
