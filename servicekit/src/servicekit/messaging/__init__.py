"""Kafka side of the kit: broker factory, batch consumer, dead letters, topic admin."""
