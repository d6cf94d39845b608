"""Payload models of every event, grouped by what they are about."""
