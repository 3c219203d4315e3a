"""Redaction: the names, addresses, secrets and identifiers of a text replaced by placeholders.

``rules.redact`` is pure (no database, no I/O); ``service.known_terms`` gathers what the desk
knows about organisations; ``api`` serves ``POST /api/v1/redact``; ``evaluation`` measures the
engine on the labelled corpus under ``tests/data/redaction/``.
"""
