"""``python -m critdesk``: the same commands as the ``critdesk`` console script."""

from critdesk.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="critdesk")
