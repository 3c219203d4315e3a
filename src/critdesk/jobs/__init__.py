"""Background work: periodic sweeps over timers that are data, run idempotently."""
