"""``critdesk eval redaction``: the redactor measured on its labelled corpus."""

from __future__ import annotations

import json
from pathlib import Path

import click

from critdesk.cli.search import evaluate
from critdesk.redaction import evaluation

DEFAULT_CORPUS = Path("tests/data/redaction")


@evaluate.command("redaction")
@click.argument(
    "path", required=False, type=click.Path(exists=True, path_type=Path), default=DEFAULT_CORPUS
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--details", is_flag=True, help="Also list every missed span and false positive.")
def evaluate_redaction(path: Path, as_json: bool, details: bool) -> None:
    """Recall per category and precision of the redactor on a labelled corpus.

    PATH is a JSON Lines file or a folder of them (default: tests/data/redaction). A labelled
    span counts as found when replacements cover all of it; a replacement is a false positive
    when it overlaps no labelled span. Exits 1 when a target is missed (recall >= 0.99 on
    secrets, e-mails, IPs, organisations and contacts; precision >= 0.95).
    """
    try:
        items = evaluation.read_corpus(path)
    except evaluation.CorpusError as error:
        raise click.ClickException(str(error)) from error
    scores = evaluation.evaluate(items, keep_details=details)
    if as_json:
        figures = scores.as_json()
        if details:
            figures["misses"] = scores.misses
            figures["false_positive_spans"] = scores.spurious
        click.echo(json.dumps(figures, ensure_ascii=False))
    else:
        _print(path, scores, details)
    if scores.failures():
        raise SystemExit(1)


def _print(path: Path, scores: evaluation.Scores, details: bool) -> None:
    click.echo(f"{path}: {scores.items} items, {scores.characters} characters")
    click.echo(f"  {'category':<14} {'labelled':>8} {'found':>6} {'recall':>7} {'agree':>6}")
    for name, row in scores.as_json()["categories"].items():
        strict = "*" if name in evaluation.STRICT_CATEGORIES else " "
        agreement = "" if row["agreement"] is None else f"{row['agreement']:.3f}"
        click.echo(
            f" {strict}{name:<14} {row['labelled']:>8} {row['found']:>6} "
            f"{row['recall']:>7.3f} {agreement:>6}"
        )
    click.echo(
        f"  recall {scores.overall_recall:.3f}; precision {scores.precision:.3f} "
        f"({scores.false_positives} false positives in {scores.replacements} replacements)"
    )
    failures = scores.failures()
    click.echo("  targets: " + ("met" if not failures else "; ".join(failures)))
    click.echo("  (* held to recall >= 0.99; precision target 0.95)")
    if details:
        for miss in scores.misses:
            click.echo(f"  missed   {miss['id']:<15} {miss['category']:<12} {miss['text']!r}")
        for spurious in scores.spurious:
            click.echo(
                f"  spurious {spurious['id']:<15} {spurious['category']:<12} "
                f"{spurious['text']!r} ({spurious['reason']})"
            )
