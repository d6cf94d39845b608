"""Tracing, structured logs and metrics shared by every service."""
