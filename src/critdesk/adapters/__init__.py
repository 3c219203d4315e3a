"""Adapters to the world outside the database: a small Protocol, a real one and a fake each."""
