"""Cases: one reported issue, its SLA clock, its state machine and its timeline."""
