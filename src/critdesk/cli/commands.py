"""Command groups: each parses its options and calls one service function."""

from __future__ import annotations

import json

import click

from critdesk.auth import service as auth
from critdesk.auth.models import ROLES, User
from critdesk.cli.context import now, settings, unit_of_work
from critdesk.demo.service import DEMO_PASSWORD, load_demo
from critdesk.migration import upgrade
from critdesk.organisation.models import Organisation
from critdesk.package import service as packages


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    upgrade(settings().effective_database_url, revision)
    click.echo("database is up to date")


@click.command()
def demo() -> None:
    """Load the demo data (idempotent) and print the demo logins."""
    with unit_of_work() as session:
        result = load_demo(db=session, now=now())
    click.echo("demo data loaded" if result.created else "demo data already present")
    click.echo(f"demo logins (password: {DEMO_PASSWORD}):")
    for email, role in result.logins:
        click.echo(f"  {email:<28} {role}")


@click.group()
def user() -> None:
    """Users."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--organisation", help="The customer's organisation (by name).")
@click.option("--phone")
@click.password_option(envvar="CRITDESK_NEW_USER_PASSWORD")
def user_create(
    email: str, name: str, role: str, organisation: str | None, phone: str | None, password: str
) -> None:
    """Create a user (password prompted, or CRITDESK_NEW_USER_PASSWORD)."""
    from sqlalchemy import select

    with unit_of_work() as session:
        org_id = None
        if organisation:
            org_id = session.scalar(
                select(Organisation.id).where(Organisation.name == organisation)
            )
            if org_id is None:
                raise click.ClickException(f"no organisation named {organisation!r}")
        created = auth.create_user(
            db=session,
            email=email,
            name=name,
            role=role,
            password=password,
            organisation_id=org_id,
            now=now(),
            phone=phone,
        )
        click.echo(f"created {created.email} ({created.role})")


@click.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--email", required=True)
@click.option("--name", default="cli", show_default=True)
def token_create(email: str, name: str) -> None:
    """Issue an API token for a user and print it (shown once)."""
    from sqlalchemy import select

    with unit_of_work() as session:
        found = session.scalar(select(User).where(User.email == auth.normalise_email(email)))
        if found is None:
            raise click.ClickException(f"no user {email}")
        click.echo(auth.issue_token(db=session, user=found, name=name, now=now()))


@click.group()
def package() -> None:
    """The support package catalogue."""


@package.command("list")
@click.option("--json", "as_json", is_flag=True)
def package_list(as_json: bool) -> None:
    """List the support packages."""
    with unit_of_work() as session:
        rows = packages.list_packages(db=session)
        if as_json:
            from critdesk.package.schemas import package_view

            click.echo(json.dumps([package_view(p) for p in rows], indent=2, default=str))
            return
        for p in rows:
            targets = (
                " / ".join(_duration(p.sla_targets[s]) for s in ("S1", "S2", "S3", "S4"))
                if p.desk_access
                else "—"
            )
            hours = packages.calendar_of(p).describe() if p.desk_access else "no desk access"
            click.echo(
                f"{p.code:<12} {p.name:<12} {hours:<48} {','.join(p.channels):<16} "
                f"{targets:<22} weight {p.queue_weight:g}"
            )


@package.command("set")
@click.argument("code")
@click.option("--name")
@click.option("--desk-access/--no-desk-access", default=None)
@click.option("--channels", help="Comma-separated: web,email,phone.")
@click.option("--sla", "sla", multiple=True, help="SEVERITY=DURATION, e.g. S1=30m or S2=4h.")
@click.option("--weight", type=float)
@click.option("--phone")
@click.option("--calendar", "calendar_json", help="Calendar spec as JSON.")
def package_set(
    code: str,
    name: str | None,
    desk_access: bool | None,
    channels: str | None,
    sla: tuple[str, ...],
    weight: float | None,
    phone: str | None,
    calendar_json: str | None,
) -> None:
    """Edit a package (the same action as the admin API)."""
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name
    if desk_access is not None:
        changes["desk_access"] = desk_access
    if channels is not None:
        changes["channels"] = [c.strip() for c in channels.split(",") if c.strip()]
    if weight is not None:
        changes["queue_weight"] = weight
    if phone is not None:
        changes["phone_number"] = phone or None
    if calendar_json is not None:
        changes["calendar"] = json.loads(calendar_json)
    with unit_of_work() as session:
        found = packages.get_package(db=session, code_or_id=code)
        if sla:
            changes["sla_targets"] = dict(found.sla_targets) | dict(_parse_sla(s) for s in sla)
        packages.update_package(db=session, actor=None, package=found, now=now(), **changes)
        click.echo(f"updated {code}")


def _parse_sla(text: str) -> tuple[str, int]:
    severity, _, duration = text.partition("=")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        seconds = int(float(duration[:-1]) * units[duration[-1]])
    except (KeyError, ValueError, IndexError) as error:
        raise click.BadParameter(f"{text!r}: use e.g. S1=30m, S2=4h") from error
    return severity.strip().upper(), seconds


def _duration(seconds: int) -> str:
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds // 60}m"
