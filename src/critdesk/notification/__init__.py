"""Notifications: the outbox, recipients and preferences, delivery by e-mail, webhook and in-app."""
