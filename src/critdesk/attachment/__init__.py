"""Uploaded files: logs, exports, screenshots; stored outside the database."""
