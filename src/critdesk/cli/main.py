from __future__ import annotations

import click

from critdesk.cli.commands import db, demo, package, serve, token, user
from critdesk.cli.logs import logs
from critdesk.cli.mail import mail
from critdesk.cli.search import evaluate, search
from critdesk.cli.tracker import tracker
from critdesk.cli.worker import worker


@click.group()
@click.version_option(package_name="critdesk")
def cli() -> None:
    """critdesk: a helpdesk for production-critical issues."""


for command in (serve, db, demo, user, token, package):
    cli.add_command(command)
cli.add_command(tracker)
cli.add_command(mail)
cli.add_command(worker)
cli.add_command(logs)
for group in (search, evaluate):
    cli.add_command(group)
