"""``critdesk logs …`` (analyse a log file here and now) and ``critdesk eval loghub``.

The same code as the background job and the case page: nothing about the file goes to the
database; it is streamed (gzip, zip and tar included) and never held whole in memory.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from critdesk.cli.search import evaluate
from critdesk.logs import evaluation
from critdesk.logs.analysis import Analyzer, Options
from critdesk.logs.reader import NotText, SourceError
from critdesk.logs.templates import template_stream

_file = click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))


@click.group("logs")
def logs() -> None:
    """Log analysis: signatures and templates of a log file."""


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@logs.command("analyze")
@_file
@click.option("--json", "as_json", is_flag=True, help="Print the whole analysis as JSON.")
@click.option(
    "--reported-at",
    help="When the trouble started (ISO 8601): ranks what began then, centres histograms.",
)
def analyze(path: Path, as_json: bool, reported_at: str | None) -> None:
    """The ranked error signatures of FILE (plain, .gz, .zip or .tar)."""
    reported = _when(reported_at)
    analyzer = Analyzer(Options(reported_at=reported, year=(reported or datetime.now(UTC)).year))
    with path.open("rb") as stream:
        try:
            analyzer.add_file(stream, path.name)
        except NotText as error:
            raise click.ClickException(f"{path.name}: {error}") from error
    summary = analyzer.summary()
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    _print_summary(summary)


def _print_summary(summary: dict[str, Any]) -> None:
    click.echo(
        f"{summary['format']}: {summary['lines']} lines, {summary['events']} events, "
        f"{summary['templates']} templates, {summary['signature_count']} signatures"
    )
    for warning in summary["warnings"]:
        click.echo(f"warning: {warning}")
    for rank, signature in enumerate(summary["signatures"], start=1):
        times = f"{signature['first_at'] or '?'} .. {signature['last_at'] or '?'}"
        click.echo(
            f"{rank:>3}. {signature['count']:>7}x {signature['severity'] or '-':<7} "
            f"score {signature['score']:<8} {times}"
        )
        click.echo(f"      {signature['fingerprint']}")
        if signature["kind"] == "exception":
            click.echo(f"      {signature['title']}")


@logs.command("templates")
@_file
@click.option("--csv", "as_csv", is_flag=True, help="Quote fields as CSV (RFC 4180).")
def templates(path: Path, as_csv: bool) -> None:
    """For every line of FILE: line_no,template_id,template."""
    with path.open("rb") as stream:
        try:
            result = template_stream(stream)
        except (NotText, SourceError) as error:
            raise click.ClickException(f"{path.name}: {error}") from error
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        for row in result.rows():
            writer.writerow(row)
        return
    out = sys.stdout
    for line_no, template_id, template in result.rows():
        out.write(f"{line_no},{template_id},{template}\n")


@evaluate.command("loghub")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate_loghub(root: Path, as_json: bool) -> None:
    """Template mining against Loghub ground truth: GA and PA per system under ROOT.

    Each system folder S holds S_2k.log and S_2k.log_structured_corrected.csv; the raw lines
    go through `critdesk logs templates` (headers detected, not given).
    """
    names = evaluation.systems(root)
    if not names:
        raise click.ClickException(f"no Loghub systems (S/S_2k.log + ground truth) under {root}")
    scores = evaluation.score_all(root)
    if as_json:
        click.echo(json.dumps(evaluation.as_json(scores)))
        return
    click.echo(f"{'system':<12} {'GA':>6} {'PA':>6}")
    for name, score in scores.items():
        click.echo(f"{name:<12} {score.ga:>6.3f} {score.pa:>6.3f}")
    mean = evaluation.mean(scores)
    click.echo(f"{'mean':<12} {mean.ga:>6.3f} {mean.pa:>6.3f}")
