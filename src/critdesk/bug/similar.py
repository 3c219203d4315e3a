"""The one similar-bug finder the API, the bug form and intake suggestions all use.

Each process keeps a ``SimilarityEngine`` in memory, built from the database and caught up
with other processes' changes before every search (``IndexSync.refresh``), so a bug filed
through one API process is found through any other on its next search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from critdesk.article import kb
from critdesk.auth.models import User
from critdesk.bug.models import Bug, format_key
from critdesk.db import Database
from critdesk.search.articles import ARTICLES
from critdesk.search.engine import Hit, SimilarityEngine
from critdesk.search.sync import BUGS, IndexSync


class SimilarBugs:
    def __init__(
        self, database: Database, *, semantic: bool | None = False, refresh_seconds: float = 0.0
    ) -> None:
        self.engine = SimilarityEngine(semantic=semantic)
        # Bugs and published articles (the knowledge base) share the one engine and index.
        self.sync = IndexSync(
            database, self.engine, sources=(BUGS, ARTICLES), refresh_seconds=refresh_seconds
        )

    def start(self) -> None:
        """Build the index without holding up the process that starts."""
        self.sync.rebuild_in_background()

    def similar(
        self,
        *,
        db: Session,
        viewer: User,
        text: str,
        limit: int,
        signatures: Sequence[str] = (),
        exclude: set[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Ranked bugs like ``text``; customers only ever get public, submitted bugs."""
        self.sync.refresh(db)
        hits = self.engine.search(
            text,
            limit=limit,
            public_only=viewer.is_customer,
            kinds={"bug"},
            signatures=signatures,
            exclude=exclude or set(),
        )
        return list(self._bugs(db, viewer, hits).values())

    def suggestions(
        self, *, db: Session, viewer: User, text: str, limit: int
    ) -> list[dict[str, Any]]:
        """Known issues for a new report: bugs and published articles, ranked together;
        customers only ever get public, submitted bugs and published articles."""
        self.sync.refresh(db)
        hits = self.engine.search(
            text, limit=limit, public_only=viewer.is_customer, kinds={"bug", "article"}
        )
        found = self._bugs(db, viewer, [h for h in hits if h.kind == "bug"])
        found |= {f"article:{f.article.id}": kb.suggestion(f) for f in kb.resolve(db, hits)}
        return [found[hit.id] for hit in hits if hit.id in found]

    def _bugs(self, db: Session, viewer: User, hits: Sequence[Hit]) -> dict[str, dict[str, Any]]:
        """The bugs behind the hits the viewer may see, by hit id, in the hits' order."""
        if not hits:
            return {}
        ids = [int(hit.id.split(":", 1)[1]) for hit in hits]
        # Plain columns through the connection: a suggestion shows a handful of fields, and
        # loading whole Bug objects cost a report a tenth of its time.
        bugs = {row.id: row for row in db.connection().execute(_SHOWN, {"ids": ids})}
        results: dict[str, dict[str, Any]] = {}
        for hit, bug_id in zip(hits, ids, strict=True):
            bug = bugs.get(bug_id)
            if bug is None or (viewer.is_customer and not bug.is_public):
                continue
            results[hit.id] = {
                "key": format_key(bug.id),
                "kind": "bug",
                "title": bug.title,
                "state": bug.state,
                "fix_version": bug.fix_version,
                "workaround": bug.workaround,
                "score": round(hit.score, 4),
                "matched_by": list(hit.matched_by),
                "url": f"/bugs/{format_key(bug.id)}",
            }
        return results


_SHOWN = select(
    Bug.id,
    Bug.is_public.label("is_public"),
    Bug.title,
    Bug.state,
    Bug.fix_version,
    Bug.workaround,
).where(Bug.id.in_(bindparam("ids", expanding=True)))
