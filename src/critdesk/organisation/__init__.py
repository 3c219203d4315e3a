"""Customer organisations and their deployment environments."""
