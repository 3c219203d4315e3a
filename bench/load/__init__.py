"""Mixed workload against a scale-out deployment (issue 9): ``python -m bench.load.run``."""
