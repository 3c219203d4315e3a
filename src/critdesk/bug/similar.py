"""The one similar-bug finder the API, the bug form and intake suggestions all use.

Each process keeps a ``SimilarityEngine`` in memory, built from the database and caught up
with other processes' changes before every search (``IndexSync.refresh``), so a bug filed
through one API process is found through any other on its next search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from critdesk.auth.models import User
from critdesk.bug.models import Bug
from critdesk.db import Database
from critdesk.search.engine import SimilarityEngine
from critdesk.search.sync import IndexSync


class SimilarBugs:
    def __init__(self, database: Database, *, semantic: bool | None = False) -> None:
        self.engine = SimilarityEngine(semantic=semantic)
        self.sync = IndexSync(database, self.engine)

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
        self.sync.refresh()
        hits = self.engine.search(
            text,
            limit=limit,
            public_only=viewer.is_customer,
            kinds={"bug"},
            signatures=signatures,
            exclude=exclude or set(),
        )
        ids = [int(hit.id.split(":", 1)[1]) for hit in hits]
        bugs = {b.id: b for b in db.scalars(select(Bug).where(Bug.id.in_(ids)))}
        results = []
        for hit, bug_id in zip(hits, ids, strict=True):
            bug = bugs.get(bug_id)
            if bug is None or (viewer.is_customer and not (bug.public and bug.submitted_at)):
                continue
            results.append(
                {
                    "key": bug.key,
                    "kind": "bug",
                    "title": bug.title,
                    "state": bug.state,
                    "fix_version": bug.fix_version,
                    "workaround": bug.workaround,
                    "score": round(hit.score, 4),
                    "matched_by": list(hit.matched_by),
                    "url": f"/bugs/{bug.key}",
                }
            )
        return results
