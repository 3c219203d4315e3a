from __future__ import annotations

import click

from critdesk.cli.commands import db, demo, package, serve, token, user


@click.group()
@click.version_option(package_name="critdesk")
def cli() -> None:
    """critdesk: a helpdesk for production-critical issues."""


for command in (serve, db, demo, user, token, package):
    cli.add_command(command)
