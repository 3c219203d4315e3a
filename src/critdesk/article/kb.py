"""Knowledge base search: published articles ranked by the one search engine (BM25, titles,
signatures), the same in-memory engine as similar-bug search, caught up with every process's
changes before each search (``IndexSync.refresh``; the ``ARTICLES`` source).

Only published articles are ever in the index, as their redacted publication; the rows found
are read again and kept only while still published, so a withdrawal committed a moment ago
by another process never shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from critdesk.article.models import Article
from critdesk.search.engine import Hit, SimilarityEngine
from critdesk.search.sync import IndexSync

MAX_RESULTS = 1000  # how deep a query may page


@dataclass(frozen=True, slots=True)
class Found:
    article: Article
    score: float
    matched_by: tuple[str, ...]


def search(
    *,
    db: Session,
    engine: SimilarityEngine,
    sync: IndexSync,
    text: str,
    limit: int,
    offset: int = 0,
) -> tuple[list[Found], bool]:
    """A page of published articles like ``text``, best first, and whether more follow."""
    if offset >= MAX_RESULTS:
        return [], False
    sync.refresh(db)
    depth = min(offset + limit + 1, MAX_RESULTS + 1)
    hits = engine.search(text, limit=depth, public_only=True, kinds={"article"})
    page = hits[offset : offset + limit]
    return resolve(db, page), len(hits) > offset + limit and offset + limit < MAX_RESULTS


def resolve(db: Session, hits: Sequence[Hit]) -> list[Found]:
    """The published articles behind index hits, in the hits' order."""
    ids = [int(hit.id.split(":", 1)[1]) for hit in hits if hit.kind == "article"]
    if not ids:
        return []
    rows = {
        a.id: a
        for a in db.scalars(
            select(Article).where(Article.id.in_(ids), Article.state == "published")
        )
    }
    found = []
    for hit in hits:
        if hit.kind != "article":
            continue
        article = rows.get(int(hit.id.split(":", 1)[1]))
        if article is not None:
            found.append(Found(article, hit.score, hit.matched_by))
    return found


def suggestion(found: Found) -> dict[str, object]:
    """An article among the intake ``suggestions`` (the case API's ``Suggestion`` shape)."""
    return {
        "kind": "article",
        "key": found.article.key,
        "title": found.article.published_title or "",
        "url": f"/kb/{found.article.id}",
        "score": round(found.score, 4),
        "state": "published",
        "fix_version": None,
        "workaround": None,
        "matched_by": list(found.matched_by),
    }
