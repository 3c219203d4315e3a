"""Known-issue matching: an analysis's signatures against the bugs the desk already knows.

Two ways, strongest first:

1. **exact** — a signature's fingerprint (``stack:…``, ``exception:…`` or ``log:…``), or a
   stack fingerprint of another exception in its ``Caused by`` chain, is one of a bug's stored
   ``signatures`` (the same normalisation wrote both: ``search.signatures``);
2. **similar** — the signature's exception, frames and message searched in bug texts
   through the similar-bug engine (``search.engine``); only hits with *stack evidence* (a
   shared in-app frame or stack fingerprint, found in the bug's own text) count, so that a
   shared word or a bare ``NullPointerException`` never claims a known issue.

The engine is kept per database engine and brought up to date before every use
(``search.sync.IndexSync``), like the API's own.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from critdesk.bug.models import Bug
from critdesk.db import Database
from critdesk.search.engine import SimilarityEngine
from critdesk.search.sync import IndexSync

# Signatures looked up, best ranked first.
MATCHED_SIGNATURES = 20
SIMILAR_SIGNATURES = 5
MAX_MATCHES = 10


@dataclass(frozen=True)
class Match:
    bug: Bug
    how: str  # "exact" | "similar"
    signature_id: str
    fingerprint: str

    def view(self) -> dict[str, Any]:
        bug = self.bug
        return {
            "bug_id": bug.id,
            "key": bug.key,
            "title": bug.title,
            "state": bug.state,
            "fix_version": bug.fix_version,
            "workaround": bug.workaround,
            "public": bug.is_public,
            "how": self.how,
            "signature_id": self.signature_id,
            "fingerprint": self.fingerprint,
        }


def _candidates(signature: dict[str, Any]) -> list[str]:
    """The fingerprint, then the stack fingerprints of the rest of its exception chain."""
    others = [s for s in signature.get("signatures", []) if s.startswith("stack:")]
    return list(dict.fromkeys([signature["fingerprint"], *others]))


def exact_matches(db: Session, signatures: Iterable[dict[str, Any]]) -> list[Match]:
    wanted: dict[str, dict[str, Any]] = {}
    for signature in list(signatures)[:MATCHED_SIGNATURES]:
        for candidate in _candidates(signature):
            wanted.setdefault(candidate, signature)
    if not wanted:
        return []
    # The stored JSON list holds each signature as a JSON string: a LIKE on that text is
    # portable (SQLite and PostgreSQL) and the exact membership is checked below.
    stored = cast(Bug.signatures, Text)
    needles = [
        json.dumps(s)[1:-1].replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        for s in wanted
    ]
    query = select(Bug).where(or_(*(stored.like(f'%"{n}"%', escape="\\") for n in needles)))
    found: list[Match] = []
    for bug in db.scalars(query.order_by(Bug.id)):
        stored_signatures = {s for s in (bug.signatures or []) if isinstance(s, str)}
        for candidate, signature in wanted.items():
            if candidate in stored_signatures:
                found.append(Match(bug, "exact", signature["id"], signature["fingerprint"]))
                break
    return found


def _query_text(signature: dict[str, Any]) -> str:
    lines = [signature.get("title") or ""]
    lines += [f"\tat {frame}()" for frame in signature.get("frames", [])]
    return "\n".join(lines)


class KnownIssues:
    """Matches signatures to bugs: exactly, then through a similar-bug engine of its own."""

    def __init__(self, database: Database | None, *, engine: SimilarityEngine | None = None):
        self.engine = engine
        self.sync = None
        if database is not None:
            self.engine = engine or SimilarityEngine(semantic=False, background_merge=False)
            self.sync = IndexSync(database, self.engine)

    def match(self, db: Session, signatures: list[dict[str, Any]]) -> list[Match]:
        found = exact_matches(db, signatures)
        seen = {m.bug.id for m in found}
        if self.engine is not None:
            if self.sync is not None:
                self.sync.refresh()
            for signature in [s for s in signatures if s["kind"] == "exception"][
                :SIMILAR_SIGNATURES
            ]:
                for hit in self.engine.search(
                    _query_text(signature),
                    limit=3,
                    kinds={"bug"},
                    signatures=tuple(signature.get("signatures", [])),
                ):
                    if "signature" not in hit.matched_by:
                        continue
                    bug = db.get(Bug, int(hit.id.split(":", 1)[1]))
                    if bug is not None and bug.id not in seen:
                        seen.add(bug.id)
                        found.append(
                            Match(bug, "similar", signature["id"], signature["fingerprint"])
                        )
        return found[:MAX_MATCHES]


class _EngineRef:
    """The part of ``Database`` that ``IndexSync`` uses, holding its engine weakly, so that a
    cached matcher never keeps a disposed database's engine alive."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)

    def session(self, *, read_only: bool = False) -> Any:
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the database engine is gone")
        return Database(engine).session(read_only=read_only)


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, KnownIssues] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def known_issues_for(database: Database) -> KnownIssues:
    """This process's matcher for a database (its engine is built on first use)."""
    with _LOCK:
        found = _BY_ENGINE.get(database.engine)
        if found is None:
            found = KnownIssues(_EngineRef(database.engine))  # type: ignore[arg-type]
            _BY_ENGINE[database.engine] = found
        return found
