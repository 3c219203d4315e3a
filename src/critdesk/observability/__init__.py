"""Operating the desk: request ids, structured logs, Prometheus metrics, health and readiness."""
