"""``critdesk report …``: the reports in a terminal, over every organisation (an operator's
view; the web and the API scope them to the caller)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import click

from critdesk.cli.context import now, unit_of_work
from critdesk.report import rules, service

_FORMATS = click.Choice(["table", "csv", "json"])


def _period(
    month: str | None, start: str | None, end: str | None
) -> tuple[datetime | None, datetime | None]:
    try:
        if month is not None:
            if start or end:
                raise rules.BadPeriod("give --month, or --from/--to, not both")
            return rules.month_bounds(month)
        first, last = rules.parse_moment(start, "--from"), rules.parse_moment(end, "--to")
        rules.check_period(first, last)
    except rules.BadPeriod as error:
        raise click.BadParameter(str(error)) from error
    return first, last


def _print(report: service.Report, output: str) -> None:
    columns = report.spec.columns
    if output == "csv":
        click.echo(rules.to_csv(columns, report.rows), nl=False)
    elif output == "json":
        click.echo(json.dumps(report.rows, default=str, indent=2))
    else:
        click.echo(rules.text_table(columns, report.rows))


def _show(
    name: str, month: str | None, start: str | None, end: str | None, **options: str | None
) -> None:
    first, last = _period(month, start, end)
    output = options.pop("output") or "table"
    query = service.Query(
        start=first,
        end=last,
        organisation=options.get("organisation"),
        package=options.get("package"),
        severity=(options.get("severity") or "").upper() or None,
    )
    with unit_of_work() as db:
        report = service.build_for(
            db=db, scope=service.EVERYTHING, spec=service.spec_named(name), query=query, now=now()
        )
    if output == "table":
        title = report.spec.title
        if month:
            title += f", {month}"
        click.echo(f"{title}\n")
    _print(report, output)
    if output == "table" and name in ("sla", "sla-monthly") and report.rows:
        total = rules.sla_figures(
            sum(r["met"] for r in report.rows),
            sum(r["breached"] for r in report.rows),
            sum(r["running"] for r in report.rows),
        )
        rate = total["met_rate"]
        click.echo(
            f"\n{total['cases']} clocks: {total['met']} met, {total['breached']} breached, "
            f"{total['running']} running; met rate "
            + ("-" if rate is None else f"{rate * 100:.1f} %")
        )


def _filters(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(
        [
            click.option("--month", help="A calendar month (UTC), e.g. 2026-10."),
            click.option("--from", "start", help="Reported from (a date or ISO time, UTC)."),
            click.option("--to", "end", help="Reported before (exclusive)."),
            click.option("--organisation", help="An organisation's name or id."),
            click.option("--package", help="A package code or name."),
            click.option("--severity", type=click.Choice(rules.SEVERITIES, case_sensitive=False)),
            click.option("--format", "output", type=_FORMATS, default="table", show_default=True),
        ]
    ):
        command = option(command)
    return command


@click.group("report")
def report() -> None:
    """Reports: SLA compliance, times, root causes, redirects, load."""


@report.command("sla")
@_filters
def report_sla(**options: str | None) -> None:
    """The SLA table (per organisation, package and severity), e.g. for --month 2026-10."""
    _show("sla", options.pop("month"), options.pop("start"), options.pop("end"), **options)


@report.command("show")
@click.argument("name", type=click.Choice(list(rules.SPECS)))
@_filters
def report_show(name: str, **options: str | None) -> None:
    """Any report by NAME, with the same filters."""
    _show(name, options.pop("month"), options.pop("start"), options.pop("end"), **options)
