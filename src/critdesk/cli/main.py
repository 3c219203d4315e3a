from __future__ import annotations

import click

from critdesk.cli.audit import audit
from critdesk.cli.backup import backup
from critdesk.cli.commands import db, demo, package, token, user
from critdesk.cli.logs import logs
from critdesk.cli.mail import mail
from critdesk.cli.privacy import privacy
from critdesk.cli.redaction import evaluate_redaction  # noqa: F401 (registers `eval redaction`)
from critdesk.cli.report import report
from critdesk.cli.search import evaluate, search
from critdesk.cli.search_model import search_export_model  # noqa: F401 (registers `search export-model`)
from critdesk.cli.serve import serve
from critdesk.cli.storage import storage
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
cli.add_command(backup)
cli.add_command(logs)
cli.add_command(storage)
cli.add_command(privacy)
cli.add_command(report)
cli.add_command(audit)
for group in (search, evaluate):
    cli.add_command(group)
