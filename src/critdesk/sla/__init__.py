"""The SLA clock: the time within which an engineer starts investigating."""
