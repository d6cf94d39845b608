"""Outcomes' pure domain: episodes, the KPIs computed over them, and disclosure control."""
