"""The ``critdesk`` command line: one small module per command group."""
