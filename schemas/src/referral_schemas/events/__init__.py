"""Payload models of every v1 event, grouped by the part of the journey they belong to."""
