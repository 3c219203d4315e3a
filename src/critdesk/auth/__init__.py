"""Users, roles, passwords, API tokens, web sessions and the permission checks."""
