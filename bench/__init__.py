"""Benchmarks of critdesk: `make bench` runs `python -m bench.run`."""
