"""The engineer queue: open cases, most urgent first, each with its score explained."""
